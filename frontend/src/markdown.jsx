// Agent output rendered as Markdown (GitHub flavour), with highlighted code.
//
// Agent output is untrusted. react-markdown builds React elements, never an HTML string;
// without rehype-raw, HTML in the source stays visible as text. Links are kept only for
// http(s) and mailto targets, and images are shown as links (a picture an agent names
// could track who reads the transcript). Code is highlighted by highlight.js for the few
// languages registered below, all bundled: nothing is fetched.

import "./markdown.css";
import { memo, useRef, useState } from "react";
import ReactMarkdown from "react-markdown";
import rehypeHighlight from "rehype-highlight";
import remarkGfm from "remark-gfm";
import bash from "highlight.js/lib/languages/bash";
import css from "highlight.js/lib/languages/css";
import diff from "highlight.js/lib/languages/diff";
import javascript from "highlight.js/lib/languages/javascript";
import json from "highlight.js/lib/languages/json";
import markdown from "highlight.js/lib/languages/markdown";
import python from "highlight.js/lib/languages/python";
import sql from "highlight.js/lib/languages/sql";
import typescript from "highlight.js/lib/languages/typescript";
import xml from "highlight.js/lib/languages/xml";
import yaml from "highlight.js/lib/languages/yaml";

const SAFE_URL = /^(https?:\/\/|mailto:)/i;

/** Languages code blocks are highlighted in (aliases too: py, js, sh…); others stay plain. */
const LANGUAGES = {
  bash,
  css,
  diff,
  javascript,
  json,
  markdown,
  python,
  sql,
  typescript,
  xml,
  yaml,
};
const REMARK_PLUGINS = [remarkGfm];
const REHYPE_PLUGINS = [
  [rehypeHighlight, { languages: LANGUAGES, aliases: { bash: ["console", "shell"] } }],
];

/** Unsafe targets become "": the link is then shown as plain text. */
export function safeUrl(url) {
  const value = String(url || "").trim();
  return SAFE_URL.test(value) ? value : "";
}

function Link({ href, children }) {
  if (!href) return <span className="unsafe-link">{children}</span>;
  return (
    <a href={href} target="_blank" rel="noopener noreferrer nofollow">
      {children}
    </a>
  );
}

function Picture({ src, alt }) {
  const label = `image: ${alt || "untitled"}`;
  if (!src) return <span className="image-link">[{label}]</span>;
  return (
    <a className="image-link" href={src} target="_blank" rel="noopener noreferrer nofollow">
      [{label}]
    </a>
  );
}

async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  // Pages served over plain http to another host have no clipboard API.
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.className = "visually-hidden";
  document.body.append(area);
  area.select();
  try {
    if (!document.execCommand("copy")) throw new Error("copy refused");
  } finally {
    area.remove();
  }
}

/** A code block with a copy button; the language (when named) labels it. */
function CodeBlock({ children, node, ...props }) {
  const preRef = useRef(null);
  const [copied, setCopied] = useState("");
  const code = node?.children?.[0];
  const classes = code?.properties?.className || [];
  const language = classes
    .map(String)
    .find((name) => name.startsWith("language-"))
    ?.slice("language-".length);
  const copy = async () => {
    const text = preRef.current?.querySelector("code")?.textContent ?? "";
    try {
      await copyText(text);
      setCopied("Copied");
    } catch {
      setCopied("Copy failed");
    }
    window.setTimeout(() => setCopied(""), 1500);
  };
  return (
    <div className="code-block">
      <div className="code-tools">
        {language && <span className="code-language">{language}</span>}
        <button
          type="button"
          className="code-copy"
          onClick={copy}
          aria-label={language ? `Copy the ${language} code` : "Copy the code"}
        >
          {copied || "Copy"}
        </button>
      </div>
      <pre ref={preRef} {...props}>
        {children}
      </pre>
    </div>
  );
}

function Table({ children }) {
  return (
    <div className="table-scroll">
      <table>{children}</table>
    </div>
  );
}

const COMPONENTS = { a: Link, img: Picture, pre: CodeBlock, table: Table };

/** Renders `text` as Markdown; `className` is put on the wrapping element. */
export const Markdown = memo(function Markdown({ text, className = "markdown" }) {
  return (
    <div className={className}>
      <ReactMarkdown
        remarkPlugins={REMARK_PLUGINS}
        rehypePlugins={REHYPE_PLUGINS}
        components={COMPONENTS}
        urlTransform={safeUrl}
      >
        {String(text ?? "")}
      </ReactMarkdown>
    </div>
  );
});
