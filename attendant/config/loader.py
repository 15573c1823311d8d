"""Read menu YAML into plain data plus a map of where every value came from.

The loader is deliberately stricter than ``yaml.safe_load``:

* every mapping key stays a string exactly as written, so DTMF keys ``1``,
  ``01`` and ``"*"`` are never turned into numbers;
* only ``true``/``false`` are booleans (YAML 1.1 would read ``no`` or ``on``
  as booleans, which breaks language codes and menu names);
* dates and ``HH:MM`` times stay strings, so schedules read as written;
* duplicate keys, recursive aliases, alias bombs, empty, huge or non-UTF-8
  files and syntax errors all become :class:`Diagnostic` objects with a
  file:line:col, never a traceback;
* an unquoted ``*`` (an alias in YAML) or ``#`` (a comment) used as a menu key
  is explained, since both are the commonest mistake in menu files.

A configuration is one file, or a folder holding ``attendant.yaml``: every
``*.yaml``/``*.yml`` file in that folder is merged section by section
(``menus``, ``directory.users`` ...), and a name defined twice is an error.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from attendant.config.diagnostics import Diagnostic, Position, json_path
from attendant.config.source_map import PathKey, Positions, SourceMap, display_path

#: Menu files are small; anything bigger is almost certainly the wrong file.
MAX_FILE_BYTES = 5 * 1024 * 1024
#: Bounds alias expansion ("billion laughs") and absurdly deep nesting. A large
#: organisation's configuration (thousands of users) holds tens of thousands of
#: values; walking the limit takes well under a second.
MAX_NODES = 250_000
MAX_DEPTH = 200
ROOT_FILE = "attendant.yaml"
#: The server settings file (attendant.config.settings): never part of a menu configuration.
SETTINGS_FILE = "server.yaml"

_INT_RE = re.compile(r"^[-+]?(0|[1-9][0-9_]*)$")
_FLOAT_RE = re.compile(
    r"^[-+]?([0-9][0-9_]*)?\.[0-9][0-9_]*([eE][-+]?[0-9]+)?$|^[-+]?[0-9]+[eE][-+]?[0-9]+$"
)
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_HASH_KEY_RE = re.compile(r"^\s*(-\s+)?#\s*:(\s|$)")


@dataclass
class Document:
    """A loaded configuration: plain data, where it came from, and its root folder."""

    data: Any
    sources: SourceMap
    root: Path
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when loading found no errors."""
        return not any(d.is_error for d in self.diagnostics)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Hold off Python's cyclic garbage collector while a configuration is built.

    Loading and compiling make hundreds of thousands of objects that stay alive (YAML
    nodes, positions, the model), and the collector, which runs every few hundred new
    objects, scans the growing heap again and again: with it, composing a 10,000-menu
    file takes four times as long (``bench/bench_compile.py``). Afterwards it runs as
    usual and collects whatever cycles were left, once. Also a decorator.
    """
    if not gc.isenabled():  # paused already (nested), or the program turned it off
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


_new_position = tuple.__new__  # Position(...) without its Python-level __new__: one per node
_ScalarNode = yaml.ScalarNode
_MERGE_TAG = "tag:yaml.org,2002:merge"
_STR_TAG = "tag:yaml.org,2002:str"
#: Tags :func:`scalar_value` reads by our rules; a plain scalar with any other tag is text.
_PLAIN_TAGS = frozenset({_STR_TAG, "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
                         "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null",
                         "tag:yaml.org,2002:timestamp"})
#: What YAML's resolver gives nodes that have no tag written, but ``<<`` (see below).
_DEFAULT_TAGS = {yaml.ScalarNode: _STR_TAG, yaml.SequenceNode: "tag:yaml.org,2002:seq",
                 yaml.MappingNode: "tag:yaml.org,2002:map"}


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """libyaml's C parser when PyYAML was built with it (about 10x faster), else pure Python.

    PyYAML calls ``resolve`` for every scalar written without a tag, and its resolver
    tries YAML 1.1's regular expressions (int, float, bool, null, timestamp) on each:
    a third of the time of composing a large file. :func:`scalar_value` reads plain
    scalars by its own rules whatever that tag says, as long as it is one of
    :data:`_PLAIN_TAGS`, so only the merge key ``<<`` needs telling apart here.
    """

    def resolve(self, kind: type[yaml.Node], value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is _ScalarNode and implicit[0] and value == "<<":
            return _MERGE_TAG
        return _DEFAULT_TAGS[kind]


class _Walker:
    """Turns a composed YAML node tree into plain data, recording positions."""

    def __init__(self, file: str, sources: SourceMap, diagnostics: list[Diagnostic]) -> None:
        self.file = file
        self.sources = sources
        self.values = sources.values
        self.keys = sources.keys
        self.diagnostics = diagnostics
        self.count = 0

    def pos(self, mark: yaml.Mark) -> Position:
        return _new_position(Position, (self.file, mark.line + 1, mark.column + 1))

    def walk(self, node: yaml.Node, path: PathKey, stack: tuple[int, ...]) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise _TooBig(path)
        self.values[path] = self.pos(node.start_mark)
        if id(node) in stack:
            # The composer hands back the anchored node itself, so its mark is the
            # anchor's; the key that holds the alias is where the mistake was written.
            self.diagnostics.append(
                Diagnostic.at(
                    self.keys.get(path, self.pos(node.start_mark)),
                    json_path(path),
                    f"this alias refers to the value it is inside of (anchored at line "
                    f"{node.start_mark.line + 1}), which would never end",
                    "remove the recursive alias; write the value out instead",
                )
            )
            return None
        if len(stack) > MAX_DEPTH:
            self.diagnostics.append(
                Diagnostic.at(
                    self.pos(node.start_mark),
                    json_path(path),
                    f"values nest more than {MAX_DEPTH} levels deep",
                    "menu files need only a few levels; check the indentation",
                )
            )
            return None
        if isinstance(node, yaml.MappingNode):
            return self.walk_mapping(node, path, (*stack, id(node)))
        if isinstance(node, yaml.SequenceNode):
            stack = (*stack, id(node))
            return [self.walk_child(item, (*path, i), stack) for i, item in enumerate(node.value)]
        assert isinstance(node, yaml.ScalarNode)
        return scalar_value(node)

    def walk_child(self, node: yaml.Node, path: PathKey, stack: tuple[int, ...]) -> Any:
        """:meth:`walk`, with a shorter way for the commonest node: a scalar not too deep.

        (A scalar is never one of the nodes it is inside of, so only the count and the
        depth are checked; about half of the time of walking a large file goes.)
        """
        if node.__class__ is not _ScalarNode or len(stack) > MAX_DEPTH:
            return self.walk(node, path, stack)
        self.count += 1
        if self.count > MAX_NODES:
            raise _TooBig(path)
        mark = node.start_mark
        self.values[path] = _new_position(
            Position, (self.file, mark.line + 1, mark.column + 1))
        return scalar_value(node)

    def walk_mapping(self, node: yaml.MappingNode, path: PathKey, stack: tuple[int, ...]) -> Any:
        result: dict[str, Any] = {}
        merges: list[yaml.Node] = []
        keys = self.keys
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merges.append(value_node)
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.diagnostics.append(
                    Diagnostic.at(
                        self.pos(key_node.start_mark),
                        json_path(path),
                        "a mapping key must be a plain word or number, not a list or mapping",
                        "write the key as text, for example \"1\": or main:",
                    )
                )
                continue
            key = str(key_node.value)
            child = (*path, key)
            if key in result:
                first = keys.get(child)
                where = f" (first at line {first.line})" if first else ""
                self.diagnostics.append(
                    Diagnostic.at(
                        self.pos(key_node.start_mark),
                        json_path(child),
                        f'duplicate key "{key}"{where}',
                        "each key may appear once in a mapping; remove or rename one of them",
                    )
                )
                continue
            keys[child] = self.pos(key_node.start_mark)
            result[key] = self.walk_child(value_node, child, stack)
        for value_node in merges:
            self.merge(value_node, path, stack, result)
        return result

    def merge(self, node: yaml.Node, path: PathKey, stack: tuple[int, ...],
              result: dict[str, Any]) -> None:
        """Apply ``<<: *base``: keys written in the mapping win, then earlier merges."""
        parts = node.value if isinstance(node, yaml.SequenceNode) else [node]
        for part in parts:
            if not isinstance(part, yaml.MappingNode):
                self.diagnostics.append(Diagnostic.at(
                    self.pos(part.start_mark), json_path(path),
                    "<< merges the keys of a mapping, but this is not a mapping",
                    "write <<: *name where &name anchors a mapping"))
                continue
            # Walk into a scratch map so the merged values' positions (the anchor's)
            # never overwrite those of keys written here.
            scratch = _Walker(self.file, SourceMap(), self.diagnostics)
            scratch.count = self.count
            merged = scratch.walk(part, path, stack)
            self.count = scratch.count
            if not isinstance(merged, dict):
                continue
            taken = {(*path, key) for key in merged if key not in result}
            for key, value in merged.items():
                result.setdefault(key, value)
            _adopt(scratch.sources, self.sources, taken)


class _TooBig(Exception):
    """Raised inside the walker when alias expansion exceeds MAX_NODES."""

    def __init__(self, path: PathKey) -> None:
        super().__init__(path)
        self.path = path


def scalar_value(node: yaml.ScalarNode) -> Any:
    """The value of a scalar, by our stricter rules (see the module docstring)."""
    text = node.value
    if node.style:
        return text  # quoted or block scalars are always strings
    if node.tag not in _PLAIN_TAGS:
        return text
    if text in _NULLS:
        return None
    if text in ("true", "True", "TRUE"):
        return True
    if text in ("false", "False", "FALSE"):
        return False
    if _INT_RE.match(text):
        return int(text.replace("_", ""))
    if _FLOAT_RE.match(text):
        return float(text.replace("_", ""))
    return text


def _explain_yaml_error(exc: yaml.YAMLError, file: str, lines: list[str]) -> Diagnostic:
    problem_mark = getattr(exc, "problem_mark", None)
    context_mark = getattr(exc, "context_mark", None)
    mark = problem_mark or context_mark
    line = mark.line + 1 if mark else 1
    col = mark.column + 1 if mark else 1
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    message = f"YAML syntax error: {problem}"
    hint = "check indentation and quoting on this line and the one before it"
    if context and context_mark is not None and problem_mark is not None and (
        (context_mark.line, context_mark.column) != (problem_mark.line, problem_mark.column)
    ):
        start = context_mark.line + 1
        message += f" ({context} that starts at line {start}, column {context_mark.column + 1})"
        if context in _UNCLOSED_HINTS:
            hint = _UNCLOSED_HINTS[context].format(line=start)
        elif context == "while parsing a block mapping" and (
            "block end" in problem or "expected key" in problem  # PyYAML / libyaml wording
        ):
            message = "YAML syntax error: this line is indented differently from the lines above"
            hint = (f"keys of one mapping (it starts at line {start}) must line up in the same "
                    "column; indent with spaces")
    elif context:
        message += f" ({context})"
    if "mapping values are not allowed" in problem:
        message = 'YAML syntax error: this ": " would start a second key on one line'
        hint = ('text that contains ": " must be quoted, e.g. prompt: "For sales: press 1"; '
                "or, if this is a key, check the indentation")
    source_line = lines[line - 1] if 0 < line <= len(lines) else ""
    stripped = source_line.strip()
    if (
        "alias" in problem
        or "expected alphabetic or numeric character" in problem
        or stripped.startswith(("*", "- *"))
    ) and "*" in source_line:
        star = source_line.rfind("*", 0, col)
        star = star if star >= 0 else source_line.index("*")
        col = star + 1
        if re.match(r"\*\s*:", source_line[star:]):
            message = "an unquoted * starts a YAML alias, so this key cannot be read"
            hint = 'quote the DTMF key: write "*": instead of *:'
        else:
            word = source_line[star:].split()[0].rstrip(",]}")
            message = (f"an unquoted * starts a YAML alias, so {word} is read as a reference "
                       "to an &anchor that does not exist")
            hint = f'quote it if you meant text: "{word}"'
    elif "'\\t'" in problem or source_line[col - 1 : col] == "\t":
        hint = "YAML indents with spaces only; replace the tab on this line with spaces"
    return Diagnostic(file, line, col, "$", message, hint)


_UNCLOSED_HINTS = {
    "while parsing a flow mapping": "the {{ on line {line} is never closed: add }} at its end, "
                                    "or put a comma between its entries",
    "while parsing a flow sequence": "the [ on line {line} is never closed: add ] at its end, "
                                     "or put a comma between its items",
    "while scanning a quoted scalar": "the quote on line {line} is never closed: add the "
                                      "matching quote at the end of the text",
}


def _hash_key_diagnostics(file: str, lines: list[str]) -> Iterator[Diagnostic]:
    for number, text in enumerate(lines, start=1):
        if _HASH_KEY_RE.match(text):
            col = text.index("#") + 1
            yield Diagnostic(
                file,
                number,
                col,
                "$",
                "this line looks like a menu option for the # key, but an unquoted # starts "
                "a YAML comment, so the whole line is ignored",
                'quote the DTMF key: write "#": instead of #:',
            )


def load_file(
    path: Path, sources: SourceMap, display: str | None = None
) -> tuple[Any, list[Diagnostic]]:
    """Load one YAML file into plain data, recording positions into ``sources``.

    Returns ``(data, diagnostics)``; ``data`` is ``None`` when nothing could be read.
    """
    file = display or str(path)
    sources.files.append(file)
    text, diags = _read(path, file)
    if text is None:
        return None, diags
    return _load_text(text, file, sources, diags)


def _read(path: Path, file: str) -> tuple[str | None, list[Diagnostic]]:
    """The text of one file, or None and why it cannot be read (``file`` names it)."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        return None, [Diagnostic(file, 1, 1, "$", f"cannot read this file: {exc.strerror}",
                                 "check the path and the file's permissions")]
    if size > MAX_FILE_BYTES:
        return None, [Diagnostic(
            file, 1, 1, "$",
            f"file is {size / 1_048_576:.1f} MB; menu files are limited to "
            f"{MAX_FILE_BYTES // 1_048_576} MB",
            "is this the right file? Split large directories across several files in a folder",
        )]
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, [Diagnostic(file, 1, 1, "$", f"cannot read this file: {exc.strerror}",
                                 "check the path and the file's permissions")]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        return None, [Diagnostic(
            file, line, col, "$",
            f"file is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})",
            "save the file as UTF-8 in your editor",
        )]
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        return None, [Diagnostic(file, line, 1, "$",
                                 "file contains NUL bytes; it is not a text file",
                                 "is this the right file? Menu files are UTF-8 YAML text")]
    return text, []


def _load_text(text: str, file: str, sources: SourceMap,
               diags: list[Diagnostic]) -> tuple[Any, list[Diagnostic]]:
    """:func:`load_file` once the text is read."""
    lines = text.splitlines()
    diags.extend(_hash_key_diagnostics(file, lines))
    if not text.strip() or all(not ln.strip() or ln.lstrip().startswith("#") for ln in lines):
        diags.append(Diagnostic(file, 1, 1, "$", "file is empty",
                                "start from an example in menus/ or run `attendant schema`"))
        return None, diags
    try:
        node = _compose(text)
    except yaml.YAMLError as exc:
        diags.append(_explain_yaml_error(exc, file, lines))
        return None, diags
    except (RecursionError, ValueError) as exc:
        diags.append(Diagnostic(file, 1, 1, "$", f"YAML cannot be parsed: {exc}",
                                "simplify the nesting of this file"))
        return None, diags
    if node is None:
        diags.append(Diagnostic(file, 1, 1, "$", "file is empty",
                                "start from an example in menus/ or run `attendant schema`"))
        return None, diags
    walker = _Walker(file, sources, diags)
    try:
        data = walker.walk(node, (), ())
        if data is None and not diags:
            diags.append(Diagnostic(file, 1, 1, "$", "file is empty",
                                    "start from an example in menus/ or run `attendant schema`"))
    except _TooBig as exc:
        where = sources.keys.get(exc.path[:1]) or Position(file, 1, 1)
        diags.append(Diagnostic.at(where, json_path(exc.path[:1]),
                                   f"this expands to more than {MAX_NODES:,} values; menu files "
                                   "are far smaller, so YAML aliases are probably multiplying",
                                   "remove aliases (*name) that expand into huge structures"))
        return None, diags
    except RecursionError:
        diags.append(Diagnostic(file, 1, 1, "$", "file nests too deeply to read",
                                "simplify the nesting of this file"))
        return None, diags
    return data, diags


def config_files(path: Path) -> list[Path]:
    """The YAML files making up the configuration at ``path`` (a file or a folder); the
    server settings file beside the menus (SETTINGS_FILE) is not one of them."""
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file()
                      and p.name != SETTINGS_FILE)
    return [path]


def discover(paths: list[Path]) -> list[Path]:
    """Expand command-line paths into configurations.

    A file is one configuration. A folder holding ``attendant.yaml`` is one
    configuration (and a ``server.yaml`` in it is returned beside it); any other
    folder is a collection, and each YAML file and subfolder in it is looked at in
    turn.
    """
    found: list[Path] = []
    for path in paths:
        if path.is_dir() and not (path / ROOT_FILE).exists():
            children = sorted(
                p for p in path.iterdir()
                if (p.is_file() and p.suffix in (".yaml", ".yml")) or p.is_dir()
            )
            found.extend(discover(children) if children else [])
        else:
            found.append(path)
            if path.is_dir() and (path / SETTINGS_FILE).is_file():
                found.append(path / SETTINGS_FILE)  # beside a configuration, not in it
    return found


@gc_paused()
def load(path: Path) -> Document:
    """Load the configuration at ``path`` (see :func:`discover` for folders)."""
    sources = SourceMap()
    root = (path if path.is_dir() else path.parent).resolve()
    if not path.exists():
        sources.files.append(display_path(path))
        return Document(None, sources, root, [Diagnostic(
            display_path(path), 1, 1, "$", "no such file or folder",
            "check the path; menu files usually live in menus/")])
    files = config_files(path)
    if not files:
        sources.files.append(display_path(path))
        return Document(None, sources, root, [Diagnostic(
            display_path(path), 1, 1, "$", "folder holds no .yaml files",
            "put attendant.yaml and the other menu files in this folder")])
    texts: _Texts = []
    for file in files:
        shown = display_path(file)
        texts.append((shown, *_read(file, shown)))
    quick = _quick_load(texts)
    if quick is not None:
        sources = SourceMap(files=[file for file, _, _ in texts],
                            fill=lambda: _positions(texts))
        return Document(quick, sources, root, [])
    merged, diags = _load_texts(texts, sources)
    return Document(merged, sources, root, diags)


#: Each file of a configuration as :func:`_read` left it: (name shown, text, why unread).
_Texts = list[tuple[str, str | None, list[Diagnostic]]]


def _load_texts(texts: _Texts, sources: SourceMap) -> tuple[Any, list[Diagnostic]]:
    """Data and findings of a configuration's files (read by :func:`_read`), with positions."""
    diags: list[Diagnostic] = []
    merged: dict[str, Any] | None = None
    for file, text, read_diags in texts:
        part_sources = SourceMap()
        part_sources.files.append(file)
        if text is None:
            data, file_diags = None, list(read_diags)
        else:
            data, file_diags = _load_text(text, file, part_sources, list(read_diags))
        diags.extend(file_diags)
        sources.files.extend(part_sources.files)
        if data is None:
            continue
        if len(texts) == 1 or not isinstance(data, dict):
            if len(texts) > 1:
                diags.append(part_sources.diag((), "a file in a menu folder must be a mapping of "
                                               "sections (menus:, directory: ...)"))
                continue
            sources.values.update(part_sources.values)
            sources.keys.update(part_sources.keys)
            merged = data if merged is None else merged
            continue
        merged = {} if merged is None else merged
        _merge(merged, data, (), part_sources, sources, diags)
    return merged, diags


@gc_paused()
def _positions(texts: _Texts) -> Positions:
    """The positions :func:`_load_texts` records (for a configuration it found fine)."""
    sources = SourceMap()
    _load_texts(texts, sources)
    return sources.values, sources.keys


def _quick_load(texts: _Texts) -> Any:
    """The data of a configuration with nothing to report, read without positions.

    None when loading has something to say about it, or something that needs the
    positions to build the data (a merge key): :func:`_load_texts` then does it all.
    """
    merged: dict[str, Any] | None = None
    for _, text, read_diags in texts:
        if text is None or read_diags:
            return None
        try:
            data = _quick_data(text)
        except _Unusual:
            return None
        if len(texts) == 1:
            return data
        if not isinstance(data, dict):
            return None
        merged = {} if merged is None else merged
        clashes: list[Diagnostic] = []
        _merge(merged, data, (), SourceMap(), SourceMap(), clashes)
        if clashes:
            return None
    return merged


class _Unusual(Exception):
    """Raised by the quick reading when the full one would report something."""


def _quick_data(text: str) -> Any:
    """What :func:`_load_text` returns for ``text`` when it reports nothing; else _Unusual."""
    lines = text.splitlines()
    if any(_HASH_KEY_RE.match(line) for line in lines) or not text.strip() or all(
            not ln.strip() or ln.lstrip().startswith("#") for ln in lines):
        raise _Unusual
    try:
        node = _compose(text)
        data = None if node is None else _QuickWalker().walk(node, ())
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        raise _Unusual from exc
    if data is None:
        raise _Unusual
    return data


class _QuickWalker:
    """:class:`_Walker` without positions: the same data, or _Unusual wherever the
    walker would add a diagnostic or take a merge key (``<<``)."""

    def __init__(self) -> None:
        self.count = 0

    def walk(self, node: yaml.Node, stack: tuple[int, ...]) -> Any:
        self.count += 1
        if self.count > MAX_NODES or id(node) in stack or len(stack) > MAX_DEPTH:
            raise _Unusual
        if isinstance(node, yaml.MappingNode):
            stack = (*stack, id(node))
            result: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == _MERGE_TAG or not isinstance(key_node, yaml.ScalarNode):
                    raise _Unusual
                key = str(key_node.value)
                if key in result:
                    raise _Unusual
                result[key] = self.walk_child(value_node, stack)
            return result
        if isinstance(node, yaml.SequenceNode):
            stack = (*stack, id(node))
            return [self.walk_child(item, stack) for item in node.value]
        assert isinstance(node, yaml.ScalarNode)
        return scalar_value(node)

    def walk_child(self, node: yaml.Node, stack: tuple[int, ...]) -> Any:
        if node.__class__ is not _ScalarNode or len(stack) > MAX_DEPTH:
            return self.walk(node, stack)
        self.count += 1
        if self.count > MAX_NODES:
            raise _Unusual
        return scalar_value(node)


def _compose(text: str) -> yaml.Node | None:
    loader = _Loader(text)
    try:
        return loader.get_single_node()  # type: ignore[no-any-return]
    finally:
        loader.dispose()


#: Mappings whose entries several files may each contribute to: the file itself
#: and ``directory``. Their other entries (``version``, ``external_numbers``)
#: may repeat only with the same value.
_SECTIONS: frozenset[PathKey] = frozenset({(), ("directory",)})
#: Tables of named things: a name in one of these may be defined by one file only.
_TABLES: frozenset[PathKey] = frozenset({
    ("attendants",), ("menus",), ("queues",), ("voicemail",), ("prompts",),
    ("directory", "users"), ("directory", "departments"),
})
_WHAT = {
    "attendants": "attendant", "menus": "menu", "queues": "queue", "voicemail": "voicemail box",
    "prompts": "system prompt", "users": "user", "departments": "department",
}


def _merge(
    into: dict[str, Any],
    part: dict[str, Any],
    path: PathKey,
    part_sources: SourceMap,
    sources: SourceMap,
    diags: list[Diagnostic],
) -> None:
    taken: set[PathKey] = set()
    for key, value in part.items():
        child = (*path, key)
        if key not in into:
            into[key] = value
            taken.add(child)
            continue
        existing = into[key]
        if (child in _SECTIONS or child in _TABLES) and isinstance(existing, dict) \
                and isinstance(value, dict):
            _merge(existing, value, child, part_sources, sources, diags)
        elif existing == value and path in _SECTIONS and not isinstance(value, dict | list):
            continue
        else:
            first = sources.key_pos(child)
            if path in _TABLES:
                what = f'{_WHAT.get(str(path[-1]), "name")} "{key}"'
                hint = "define each name once: rename or delete one of them"
            else:
                what = f'"{json_path(child)}"'
                hint = "write this setting in one file only"
            diags.append(part_sources.diag(
                child, f"{what} is already defined in {first.file} (line {first.line})",
                hint, at_key=True))
    _adopt(part_sources, sources, taken)


def _adopt(source: SourceMap, target: SourceMap, roots: set[PathKey]) -> None:
    """Copy into ``target`` the positions ``source`` holds at or below any path in ``roots``."""
    if not roots:
        return
    depths = sorted({len(r) for r in roots})
    for table_from, table_to in ((source.values, target.values), (source.keys, target.keys)):
        for p, pos in table_from.items():
            if any(p[:n] in roots for n in depths if n <= len(p)):
                table_to[p] = pos
