"""Check that every error and event of the Solidity interfaces carries NatSpec: a `@notice` and a `@param`
for each named parameter; and that every field of their structs is documented.

`contracts/interfaces/` is the spec integrators read, so an undocumented error or event there is a gap in
it. The NatSpec is read the way solc reads it: the doc comment immediately before the declaration (a run of
consecutive `///` lines, or one `/** */` block), a tag starting at the first `@` of a line, and untagged
leading text counting as `@notice`. Declarations may span lines. A struct field is documented by a `@param`
above the struct or by a doc comment of its own right above the field. solc itself rejects an error's or
event's `@param` that names no parameter, but not a struct's; this script reports both.

Exits 1 with one line per offence (`file:line: error Foo lacks @notice`), 0 with a one-line summary.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INTERFACES = ROOT / "contracts" / "interfaces"
# Declared here with the same selectors as the upstream file; third-party, so left as upstream writes it.
SKIP = frozenset({"AggregatorV3Interface.sol"})

DECLARATION = re.compile(r"\b(error|event|struct)\s+([A-Za-z_$][A-Za-z0-9_$]*)\s*([({])")
IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
# Words that can end a parameter without being its name.
NOT_A_NAME = frozenset({"indexed", "payable", "memory", "calldata", "storage"})


@dataclass
class Comment:
    """One comment of the source: `start`/`end` are offsets into it (end exclusive)."""

    start: int
    end: int
    doc: bool
    lines: list[str]  # the comment's text lines, comment markers stripped
    block: bool  # a /* */ comment (else //)


@dataclass
class DocComment:
    """The NatSpec of one declaration, parsed into tags."""

    notice: str = ""
    params: dict[str, str] = field(default_factory=dict)
    duplicate_params: list[str] = field(default_factory=list)


@dataclass
class Declaration:
    kind: str  # "error", "event" or "struct"
    name: str
    line: int
    params: list[str | None]  # a struct's fields; None: an unnamed parameter
    doc: DocComment | None
    self_documented: set[str] = field(default_factory=set)  # struct fields with a doc comment of their own


def scan(source: str) -> tuple[str, list[Comment]]:
    """The source with every comment and string literal blanked (offsets and newlines kept), and its comments."""
    code = list(source)
    comments: list[Comment] = []
    i = 0
    n = len(source)

    def blank(start: int, end: int) -> None:
        for k in range(start, end):
            if code[k] != "\n":
                code[k] = " "

    while i < n:
        c = source[i]
        if source.startswith("//", i):
            end = source.find("\n", i)
            end = n if end == -1 else end
            text = source[i:end]
            doc = text.startswith("///") and not text.startswith("////")
            comments.append(Comment(i, end, doc, [text[3:] if doc else text[2:]], block=False))
            blank(i, end)
            i = end
        elif source.startswith("/*", i):
            end = source.find("*/", i + 2)
            end = n if end == -1 else end + 2
            text = source[i:end]
            doc = text.startswith("/**") and not text.startswith("/***") and text != "/**/"
            body = text[3 if doc else 2 : -2 if text.endswith("*/") else None]
            lines = [re.sub(r"^\s*\*(?!/)", "", line) for line in body.split("\n")]
            comments.append(Comment(i, end, doc, lines, block=True))
            blank(i, end)
            i = end
        elif c in "\"'":
            k = i + 1
            while k < n and source[k] != c and source[k] != "\n":
                k += 2 if source[k] == "\\" else 1
            blank(i + 1, min(k, n))
            i = k + 1
        else:
            i += 1
    return "".join(code), comments


def doc_before(source: str, comments: list[Comment], offset: int) -> list[str] | None:
    """The lines of the doc comment solc attaches to the declaration at `offset`, or None without one.

    It is the last doc comment before the declaration with no code between (plain comments may be). A run of
    `///` comments on consecutive lines is one doc comment (a blank line ends it); a `/** */` block is one on
    its own."""
    before = [c for c in comments if c.end <= offset]
    end = offset
    while before:
        last = before.pop()
        if source[last.end : end].strip():
            return None
        if last.doc:
            break
        end = last.start
    else:
        return None
    if last.block:
        return last.lines
    run = [last]
    for c in reversed(before):
        gap = source[c.end : run[0].start]
        if not c.doc or c.block or gap.strip() or gap.count("\n") != 1:
            break
        run.insert(0, c)
    return [line for c in run for line in c.lines]


def parse_doc(lines: list[str]) -> DocComment:
    """NatSpec tags as solc's DocStringParser reads them: a line with an `@` starts the tag at its first `@`;
    a line without one continues the last tag, or, before any tag, is `@notice`."""
    doc = DocComment()
    tag: str | None = None
    param: str | None = None
    for raw in lines:
        at = raw.find("@")
        if at == -1:
            text = raw.strip()
            if tag is None and text:
                tag = "notice"
                doc.notice = text
            elif tag == "notice" and text:
                doc.notice = f"{doc.notice} {text}".strip()
            elif tag == "param" and param is not None and text:
                doc.params[param] = f"{doc.params[param]} {text}".strip()
            continue
        name, _, rest = raw[at + 1 :].partition(" ")
        tag = name.strip()
        rest = rest.strip()
        param = None
        if tag == "notice":
            doc.notice = f"{doc.notice} {rest}".strip()
        elif tag == "param":
            pname, _, description = rest.partition(" ")
            if pname:
                if pname in doc.params:
                    doc.duplicate_params.append(pname)
                doc.params[pname] = description.strip()
                param = pname
    return doc


def split_top_level(text: str) -> list[str]:
    """`text` split at the commas outside any brackets."""
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    for ch in text:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def parameter_name(param: str) -> str | None:
    """The name of one parameter (`uint256 indexed assetId` -> assetId), None when it has none."""
    words = re.sub(r"\s*\[", "[", re.sub(r"\(.*\)", "()", param)).split()
    if len(words) < 2:
        return None
    last = words[-1]
    if last in NOT_A_NAME or not IDENTIFIER.fullmatch(last):
        return None
    return last


def closing(code: str, start: int) -> int:
    """The offset of the bracket that closes the one at `start`."""
    opening = code[start]
    close = {"(": ")", "{": "}"}[opening]
    depth = 0
    for i in range(start, len(code)):
        if code[i] == opening:
            depth += 1
        elif code[i] == close:
            depth -= 1
            if depth == 0:
                return i
    return len(code)


def declarations(path: Path) -> Iterator[Declaration]:
    source = path.read_text(encoding="utf-8")
    code, comments = scan(source)
    for match in DECLARATION.finditer(code):
        kind = match.group(1)
        if (kind == "struct") != (match.group(3) == "{"):
            continue  # `error(` or `struct X(` is no declaration of ours
        start = match.end() - 1
        end = closing(code, start)
        self_documented: set[str] = set()
        if kind == "struct":
            params: list[str | None] = []
            offset = start + 1
            for member in code[start + 1 : end].split(";"):
                name = parameter_name(member)
                if member.strip() and name is not None:
                    params.append(name)
                    at = offset + len(member) - len(member.lstrip())
                    if doc_before(source, comments, at) is not None:
                        self_documented.add(name)
                offset += len(member) + 1
        else:
            params = [parameter_name(p) for p in split_top_level(code[start + 1 : end])]
        lines = doc_before(source, comments, match.start())
        yield Declaration(
            kind=kind,
            name=match.group(2),
            line=source.count("\n", 0, match.start()) + 1,
            params=params,
            doc=parse_doc(lines) if lines is not None else None,
            self_documented=self_documented,
        )


def offences(decl: Declaration) -> list[str]:
    what = f"{decl.kind} {decl.name}"
    doc = decl.doc or DocComment()
    found: list[str] = []
    if not doc.notice and decl.kind != "struct":
        found.append(f"{what} lacks @notice")
    named = [p for p in decl.params if p is not None]
    for name in named:
        if name in decl.self_documented:
            continue
        if name not in doc.params:
            found.append(f"{what} lacks @param {name}")
        elif not doc.params[name]:
            found.append(f"{what} has an empty @param {name}")
    for name in doc.params:
        if name not in named:
            members = "fields" if decl.kind == "struct" else "parameters"
            found.append(f"{what} documents @param {name}, which is not one of its {members}")
    for name in doc.duplicate_params:
        found.append(f"{what} documents @param {name} twice")
    return found


def interface_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        candidates = sorted(path.glob("*.sol")) if path.is_dir() else [path]
        files.extend(p for p in candidates if p.name not in SKIP)
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "paths", nargs="*", type=Path, default=[INTERFACES], help="interface files or folders (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    files = interface_files(args.paths)
    if not files:
        print("natspec: no interface files found", file=sys.stderr)
        return 1
    problems: list[str] = []
    counts = {"error": 0, "event": 0, "struct": 0}
    for path in files:
        resolved = path.resolve()
        shown = resolved.relative_to(ROOT) if resolved.is_relative_to(ROOT) else path
        for decl in declarations(resolved):
            counts[decl.kind] += 1
            problems.extend(f"{shown}:{decl.line}: {o}" for o in offences(decl))
    if problems:
        print("\n".join(problems))
        return 1
    print(
        f"natspec: {counts['error']} errors, {counts['event']} events, {counts['struct']} structs documented"
        f" in {len(files)} interfaces"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
