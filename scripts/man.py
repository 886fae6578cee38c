#!/usr/bin/python3
"""scripts/man.py -- the man pages, written from docs/ so that they never drift from them.

    man/tandemd.8      <- docs/tandemd.md
    man/tandem.1       <- docs/cli.md
    man/tandem.yaml.5  <- docs/configuration.md

    /usr/bin/python3 scripts/man.py           # writes man/
    /usr/bin/python3 scripts/man.py --check   # exits 1 when man/ is not what docs/ gives (a test runs it)

A small Markdown reader, enough for these pages: headings, paragraphs, bullet lists, tables (each row becomes
a tagged paragraph: the first cell bold, the other cells after it), fenced code blocks, `code` and **bold**.
Only the Python standard library.
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = [("tandemd", 8, "docs/tandemd.md", "System Manager's Manual"),
         ("tandem", 1, "docs/cli.md", "User Commands"),
         ("tandem.yaml", 5, "docs/configuration.md", "File Formats")]


def esc(text):
    """Roff escapes for running text: backslashes, and a leading dot or quote."""
    text = text.replace("\\", "\\e")
    return text


def inline(text):
    text = esc(text)
    text = re.sub(r"\*\*(.+?)\*\*", lambda m: "\\fB" + m.group(1) + "\\fR", text)
    text = re.sub(r"`([^`]+)`", lambda m: "\\fB" + m.group(1) + "\\fR", text)
    text = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", text)   # links: their text
    text = text.replace("-", "\\-")
    return text


def line_safe(text):
    return "\\&" + text if text[:1] in (".", "'") else text


def convert(md, name, section, title):
    out = ['.\\" %s(%d) -- written by scripts/man.py from the docs; edit those, not this' % (name, section),
           '.TH "%s" "%d" "" "Tandem" "%s"' % (name.upper(), section, title)]
    lines = md.splitlines()
    i = 0
    para = []
    first = True

    def flush():
        if para:
            out.append(".PP")
            out.append(line_safe(inline(" ".join(p.strip() for p in para))))
            para.clear()

    while i < len(lines):
        ln = lines[i]
        if ln.startswith("```"):
            flush()
            out += [".PP", ".nf", ".RS 4"]
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                out.append(line_safe(esc(lines[i])))
                i += 1
            out += [".RE", ".fi"]
        elif ln.startswith("#"):
            flush()
            level = len(ln) - len(ln.lstrip("#"))
            text = ln.lstrip("#").strip()
            if first:
                out += [".SH NAME", "%s \\- %s" % (name, inline(text))]
                first = False
            elif level <= 2:
                out.append('.SH "%s"' % inline(text).upper().replace('"', ""))
            else:
                out.append('.SS "%s"' % inline(text).replace('"', ""))
        elif ln.startswith("|"):
            flush()
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                cells = [c.strip() for c in lines[i].strip().strip("|").split("|")]
                if not all(re.fullmatch(r":?-+:?", c) for c in cells if c):
                    rows.append(cells)
                i += 1
            i -= 1
            header, body = rows[0], rows[1:]
            for r in body:
                out.append(".TP")
                out.append(line_safe(inline(r[0])))
                rest = ["%s: %s" % (h, c) if h and k < len(r) - 1 else c
                        for k, (h, c) in enumerate(zip(header[1:], r[1:]), start=1)]
                out.append(line_safe(inline("; ".join(x for x in rest if x))))
        elif re.match(r"\s*[-*] ", ln):
            flush()
            item = [re.sub(r"^\s*[-*] ", "", ln)]
            while i + 1 < len(lines) and lines[i + 1].startswith("  ") and not re.match(r"\s*[-*] ",
                                                                                   lines[i + 1]):
                i += 1
                item.append(lines[i].strip())
            out += [".IP \\(bu 2", line_safe(inline(" ".join(item)))]
        elif not ln.strip():
            flush()
        else:
            para.append(ln)
        i += 1
    flush()
    return "\n".join(out) + "\n"


def main():
    check = "--check" in sys.argv
    stale = []
    for name, section, src, title in PAGES:
        text = convert((ROOT / src).read_text(), name, section, title)
        path = ROOT / "man" / ("%s.%d" % (name, section))
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(str(path.relative_to(ROOT)))
        else:
            path.parent.mkdir(exist_ok=True)
            path.write_text(text)
    if stale:
        print("man pages out of date with docs/: %s (run scripts/man.py)" % ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
