"""Build every prompt of a flow into a folder: cached by content, in parallel, with a manifest.

Layout of a build folder::

    manifest.json          what was built (see docs/prompts.md, "Manifest")
    cache/<key>.wav        one clip per content key (see attendant.prompts.render)
    moh/default-<rate>.wav the default music on hold

A prompt whose key already has a file in ``cache/`` is not rendered again, so
a second build with nothing changed renders nothing, and changing one text
re-renders that prompt only. Clips are never edited in place, only added;
the manifest says which ones are in use.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from attendant.config.diagnostics import Diagnostic
from attendant.config.source_map import PromptSite, PromptSiteKey
from attendant.errors import PromptError
from attendant.model import Flow, Speech
from attendant.prompts import audio, moh
from attendant.prompts.collect import PromptJob, collect, languages
from attendant.prompts.render import Renderer, RenderError

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1
CLOCK_RATES = (8000, 16000)


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of the manifest: a prompt in a language and the clip that plays it."""

    id: str
    language: str
    hash: str
    duration: float
    file: str


@dataclass
class BuildReport:
    """What a build did: counts, time, the manifest, fallbacks and errors."""

    out: Path
    entries: list[Entry] = field(default_factory=list)
    rendered: int = 0
    cached: int = 0
    seconds: float = 0.0
    errors: list[PromptError] = field(default_factory=list)
    fell_back: list[tuple[str, str]] = field(default_factory=list)
    languages: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when every prompt was built."""
        return not self.errors

    def summary(self) -> str:
        """One line for people: what was rendered and what came from the cache."""
        total = self.rendered + self.cached
        langs = ", ".join(self.languages)
        if self.rendered == 0 and not self.errors:
            return (f"nothing to render: all {total} prompt(s) ({langs}) came from the cache "
                    f"in {self.seconds:.2f} s -> {self.out / MANIFEST}")
        failed = f", {len(self.errors)} failed" if self.errors else ""
        return (f"{total + len(self.errors)} prompt(s) ({langs}): {self.rendered} rendered, "
                f"{self.cached} from the cache{failed}, in {self.seconds:.2f} s "
                f"-> {self.out / MANIFEST}")


def _diagnostic(job: PromptJob, exc: RenderError,
                sites: Mapping[PromptSiteKey, PromptSite]) -> PromptError:
    site = None
    if exc.index is not None:
        site = sites.get((job.prompt_id, job.variant, exc.index))
    site = site or sites.get((job.prompt_id, None, None))
    message = f"prompt {job.prompt_id} ({job.language}): {exc.message}"
    if site is None:
        text = message + (f"\n  hint: {exc.hint}" if exc.hint else "")
        return PromptError(text)
    return PromptError(message, Diagnostic.at(site.position, site.json_path, message, exc.hint))


def speech_data(speech: Speech) -> dict[str, object]:
    """The ``speech`` settings as manifest data (the store renders with the same ones)."""
    return {"engine": speech.engine, "fallback": speech.fallback, "voices": dict(speech.voices),
            "max_prompt_seconds": speech.max_prompt_seconds,
            "music_on_hold": speech.music_on_hold}


def build(
    flow: Flow,
    out: Path,
    *,
    sites: Mapping[PromptSiteKey, PromptSite] | None = None,
    rate: int = 8000,
    jobs: int = 1,
    engine: str | None = None,
    extra_languages: tuple[str, ...] = (),
    progress: Callable[[int], None] | None = None,
    on_total: Callable[[int], None] | None = None,
) -> BuildReport:
    """Render every prompt ``flow`` can play into ``out`` and write the manifest.

    Args:
        flow: the compiled configuration.
        out: the build folder (created when missing).
        sites: where each prompt was written (``CompileResult.prompt_sites``), so
            errors name the menu file and line.
        rate: the endpoint's clock rate, 8000 (G.711) or 16000.
        jobs: prompts rendered at once.
        engine: overrides ``speech.engine``.
        extra_languages: languages to build besides those the attendants offer.
        progress: called with 1 after each prompt (for a progress bar).
        on_total: called once with the number of prompts to render.

    Errors do not stop the build: each is in ``report.errors``, and the manifest
    is written only when there are none.
    """
    if rate not in CLOCK_RATES:
        raise ValueError(f"clock rate must be one of {CLOCK_RATES}, not {rate}")
    started = time.perf_counter()
    sites = sites or {}
    report = BuildReport(out, languages=tuple(
        lang for lang, _ in languages(flow, extra_languages)))
    cache = out / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    renderer = Renderer(flow.speech, Path(flow.root), rate, engine)
    previous = _previous_durations(out)

    # Keys first (cheap, and where unknown voices and missing files show up), then render.
    todo: list[tuple[PromptJob, str]] = []
    for job in collect(flow, extra_languages):
        try:
            key = renderer.key(job.fragments)
        except RenderError as exc:
            report.errors.append(_diagnostic(job, exc, sites))
            continue
        path = cache / f"{key}.wav"
        if path.is_file():
            report.cached += 1
            seconds = previous.get(key)
            report.entries.append(Entry(job.prompt_id, job.language, key,
                                        seconds if seconds is not None else
                                        round(audio.duration(path), 3),
                                        f"cache/{key}.wav"))
        else:
            todo.append((job, key))

    if on_total is not None:
        on_total(len(todo))

    def render_one(item: tuple[PromptJob, str]) -> tuple[Entry, bool] | PromptError:
        job, key = item
        try:
            if renderer.down:
                # The engine is unreachable: a clip the fallback made in an earlier build will do.
                spare = renderer.key(job.fragments, fallback=True)
                if (cache / f"{spare}.wav").is_file():
                    renderer.note_fallback(job.prompt_id)
                    return Entry(job.prompt_id, job.language, spare,
                                 round(audio.duration(cache / f"{spare}.wav"), 3),
                                 f"cache/{spare}.wav"), False
            clip, fell_back = renderer.render(job.fragments, job.prompt_id)
            if fell_back:
                key = renderer.key(job.fragments, fallback=True)
            path = cache / f"{key}.wav"
            if not path.is_file():
                audio.write_wav(clip, path)
            return Entry(job.prompt_id, job.language, key, round(len(clip) / 1000, 3),
                         f"cache/{key}.wav"), True
        except RenderError as exc:
            return _diagnostic(job, exc, sites)
        finally:
            if progress is not None:
                progress(1)

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for result in pool.map(render_one, todo):
            if isinstance(result, PromptError):
                report.errors.append(result)
            else:
                entry, rendered = result
                report.entries.append(entry)
                if rendered:
                    report.rendered += 1
                else:
                    report.cached += 1

    try:
        moh_file = _music_on_hold(out, flow, rate)
    except audio.AudioError as exc:
        report.errors.append(PromptError(f"speech.music_on_hold: {exc.message}"
                                         + (f"\n  hint: {exc.hint}" if exc.hint else "")))
        moh_file = ""
    report.fell_back = list(renderer.fell_back)
    report.entries.sort(key=lambda e: (e.id, e.language))
    if report.ok:
        _write_manifest(out, flow, rate, report.entries, moh_file)
    report.seconds = time.perf_counter() - started
    return report


def _music_on_hold(out: Path, flow: Flow, rate: int) -> str:
    """The music-on-hold file: the admin's (``speech.music_on_hold``) or ours."""
    own = flow.speech.music_on_hold
    if own is None:
        name = f"moh/default-v{moh.VERSION}-{rate}.wav"
        if not (out / name).is_file():
            moh.write(out / name, rate)
        return name
    source = Path(flow.root) / own
    stat = source.stat() if source.is_file() else None
    tag = f"{own}:{stat.st_size}:{stat.st_mtime_ns}" if stat else own
    name = f"moh/custom-{hashlib.sha256(tag.encode()).hexdigest()[:16]}-{rate}.wav"
    if not (out / name).is_file():
        music = audio.to_pcm(audio.load(source), rate)
        if audio.is_silent(music):
            raise audio.AudioError(f'"{own}" is silent', "check the recording")
        audio.write_wav(audio.normalise(music, moh.MUSIC_DBFS), out / name)
    return name


def _previous_durations(out: Path) -> dict[str, float]:
    """Durations the last manifest recorded, so a warm build need not open every clip."""
    try:
        data = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
        return {e["hash"]: float(e["duration"]) for e in data["prompts"]}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _write_manifest(out: Path, flow: Flow, rate: int, entries: list[Entry],
                    moh_file: str) -> None:
    data = {
        "version": MANIFEST_VERSION,
        "rate": rate,
        "root": flow.root,
        "speech": speech_data(flow.speech),
        "music_on_hold": moh_file,
        "prompts": [{"id": e.id, "language": e.language, "hash": e.hash,
                     "duration": e.duration, "file": e.file} for e in entries],
    }
    tmp = out / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(out / MANIFEST)
