// A small Markdown renderer that builds React elements directly.
//
// Agent output is untrusted. Nothing here produces an HTML string: every piece of text
// becomes a React text node (escaped by React), raw HTML in the source stays visible as
// text, and links are kept only for http(s) and mailto targets.

const SAFE_URL = /^(https?:\/\/|mailto:)/i;
const FENCE = /^\s{0,3}(`{3,}|~{3,})\s*([\w+#.-]*)\s*$/;
const HEADING = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
const RULE = /^\s{0,3}([-*_])(\s*\1){2,}\s*$/;
const QUOTE = /^\s{0,3}>\s?(.*)$/;
const BULLET = /^(\s*)([-*+])\s+(.*)$/;
const ORDERED = /^(\s*)(\d{1,9})[.)]\s+(.*)$/;
const TABLE_DIVIDER = /^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$/;

/** Renders `text` as Markdown; `className` is put on the wrapping element. */
export function Markdown({ text, className = "markdown" }) {
  const lines = String(text ?? "")
    .replace(/\r\n?/g, "\n")
    .split("\n");
  return <div className={className}>{parseBlocks(lines, "b")}</div>;
}

function isBlank(line) {
  return line.trim() === "";
}

function startsBlock(line, next) {
  return (
    FENCE.test(line) ||
    HEADING.test(line) ||
    RULE.test(line) ||
    QUOTE.test(line) ||
    BULLET.test(line) ||
    ORDERED.test(line) ||
    (line.includes("|") && next !== undefined && TABLE_DIVIDER.test(next))
  );
}

function parseBlocks(lines, keyPrefix) {
  const blocks = [];
  let i = 0;
  const key = () => `${keyPrefix}${blocks.length}`;
  while (i < lines.length) {
    const line = lines[i];
    if (isBlank(line)) {
      i += 1;
      continue;
    }
    const fence = line.match(FENCE);
    if (fence) {
      const body = [];
      i += 1;
      while (i < lines.length && !lines[i].trim().startsWith(fence[1])) {
        body.push(lines[i]);
        i += 1;
      }
      i += 1; // the closing fence (or the end of the text)
      blocks.push(
        <pre key={key()} data-language={fence[2] || undefined}>
          <code>{body.join("\n")}</code>
        </pre>,
      );
      continue;
    }
    const heading = line.match(HEADING);
    if (heading) {
      const Tag = `h${Math.min(heading[1].length + 2, 6)}`;
      blocks.push(<Tag key={key()}>{parseInline(heading[2], key())}</Tag>);
      i += 1;
      continue;
    }
    if (RULE.test(line)) {
      blocks.push(<hr key={key()} />);
      i += 1;
      continue;
    }
    if (QUOTE.test(line)) {
      const body = [];
      while (i < lines.length && QUOTE.test(lines[i])) {
        body.push(lines[i].match(QUOTE)[1]);
        i += 1;
      }
      blocks.push(<blockquote key={key()}>{parseBlocks(body, `${key()}q`)}</blockquote>);
      continue;
    }
    if (BULLET.test(line) || ORDERED.test(line)) {
      const [list, next] = parseList(lines, i, key());
      blocks.push(list);
      i = next;
      continue;
    }
    if (line.includes("|") && i + 1 < lines.length && TABLE_DIVIDER.test(lines[i + 1])) {
      const [table, next] = parseTable(lines, i, key());
      blocks.push(table);
      i = next;
      continue;
    }
    const body = [line];
    i += 1;
    while (i < lines.length && !isBlank(lines[i]) && !startsBlock(lines[i], lines[i + 1])) {
      body.push(lines[i]);
      i += 1;
    }
    blocks.push(<p key={key()}>{parseParagraph(body, key())}</p>);
  }
  return blocks;
}

function parseParagraph(body, keyPrefix) {
  const nodes = [];
  body.forEach((line, index) => {
    if (index > 0) nodes.push(<br key={`${keyPrefix}br${index}`} />);
    nodes.push(...parseInline(line.trim(), `${keyPrefix}l${index}`));
  });
  return nodes;
}

function parseList(lines, start, keyPrefix) {
  const first = lines[start].match(BULLET) || lines[start].match(ORDERED);
  const isOrdered = !BULLET.test(lines[start]);
  const pattern = isOrdered ? ORDERED : BULLET;
  const indent = first[1].length;
  const items = [];
  let i = start;
  while (i < lines.length) {
    const match = lines[i].match(pattern);
    if (!match || match[1].length !== indent) break;
    const body = [match[3]];
    i += 1;
    // Continuation lines: indented deeper than the marker, or blank lines inside the item.
    while (i < lines.length) {
      const line = lines[i];
      const leading = line.match(/^\s*/)[0].length;
      if (isBlank(line)) {
        const nextLine = lines[i + 1];
        if (nextLine !== undefined && nextLine.match(/^\s*/)[0].length > indent) {
          body.push("");
          i += 1;
          continue;
        }
        break;
      }
      if (leading <= indent) break;
      body.push(line.slice(Math.min(leading, indent + 2)));
      i += 1;
    }
    const itemKey = `${keyPrefix}i${items.length}`;
    const content =
      body.length === 1 ? parseInline(body[0], itemKey) : parseBlocks(body, `${itemKey}b`);
    items.push(<li key={itemKey}>{content}</li>);
  }
  const startNumber = isOrdered ? Number(first[2]) : undefined;
  const list = isOrdered ? (
    <ol key={keyPrefix} start={startNumber === 1 ? undefined : startNumber}>
      {items}
    </ol>
  ) : (
    <ul key={keyPrefix}>{items}</ul>
  );
  return [list, i];
}

function splitRow(line) {
  let row = line.trim();
  if (row.startsWith("|")) row = row.slice(1);
  if (row.endsWith("|")) row = row.slice(0, -1);
  return row.split("|").map((cell) => cell.trim());
}

function parseTable(lines, start, keyPrefix) {
  const header = splitRow(lines[start]);
  const rows = [];
  let i = start + 2;
  while (i < lines.length && lines[i].includes("|") && !isBlank(lines[i])) {
    rows.push(splitRow(lines[i]));
    i += 1;
  }
  const table = (
    <div className="table-scroll" key={keyPrefix}>
      <table>
        <thead>
          <tr>
            {header.map((cell, c) => (
              <th key={c}>{parseInline(cell, `${keyPrefix}h${c}`)}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row, r) => (
            <tr key={r}>
              {header.map((_, c) => (
                <td key={c}>{parseInline(row[c] ?? "", `${keyPrefix}r${r}c${c}`)}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
  return [table, i];
}

// Inline syntax, tried in this order at each position of the text.
const INLINE = [
  { name: "code", pattern: /^(`+)([\s\S]+?)\1(?!`)/ },
  { name: "link", pattern: /^\[([^\]]+)\]\(\s*([^()\s]+)(?:\s+"[^"]*")?\s*\)/ },
  { name: "autolink", pattern: /^(https?:\/\/[^\s<>()]+[^\s<>().,;:!?'"])/ },
  { name: "strong", pattern: /^(\*\*|__)(?=\S)([\s\S]+?\S)\1/ },
  { name: "strike", pattern: /^~~(?=\S)([\s\S]+?\S)~~/ },
  { name: "em", pattern: /^([*_])(?=\S)([\s\S]+?\S)\1(?![*_\w])/ },
];
const INLINE_START = /[`[h*_~]/;

function parseInline(text, keyPrefix) {
  const nodes = [];
  let plain = "";
  let i = 0;
  const flush = () => {
    if (plain) nodes.push(plain);
    plain = "";
  };
  while (i < text.length) {
    const char = text[i];
    if (!INLINE_START.test(char) || (char === "_" && /\w/.test(text[i - 1] ?? ""))) {
      plain += char;
      i += 1;
      continue;
    }
    const rest = text.slice(i);
    let matched = null;
    for (const rule of INLINE) {
      const match = rest.match(rule.pattern);
      if (match) {
        matched = { rule: rule.name, match };
        break;
      }
    }
    if (!matched) {
      plain += char;
      i += 1;
      continue;
    }
    flush();
    const key = `${keyPrefix}n${nodes.length}`;
    nodes.push(renderInline(matched.rule, matched.match, key));
    i += matched.match[0].length;
  }
  flush();
  return nodes;
}

function renderInline(rule, match, key) {
  switch (rule) {
    case "code":
      return <code key={key}>{match[2].trim() || match[2]}</code>;
    case "link":
      if (!SAFE_URL.test(match[2])) return match[0];
      return (
        <a key={key} href={match[2]} target="_blank" rel="noopener noreferrer nofollow">
          {parseInline(match[1], key)}
        </a>
      );
    case "autolink":
      return (
        <a key={key} href={match[1]} target="_blank" rel="noopener noreferrer nofollow">
          {match[1]}
        </a>
      );
    case "strong":
      return <strong key={key}>{parseInline(match[2], key)}</strong>;
    case "strike":
      return <del key={key}>{parseInline(match[1], key)}</del>;
    default:
      return <em key={key}>{parseInline(match[2], key)}</em>;
  }
}
