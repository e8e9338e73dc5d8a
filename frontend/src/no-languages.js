// Stands in for lowlight's bundled language sets at build time (see build.mjs): the
// Markdown renderer registers the languages it highlights itself.
export const grammars = {};
