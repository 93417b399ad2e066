"""`bench.run`: every benchmark's table collected; a failed or hung one reported, not fatal."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench.run import Bench, kept_sections, render, run_bench, shift_headings


@pytest.mark.parametrize(("markdown", "expected"), [
    ("# Events\n\n## Latency\n| a |", "### Events\n\n#### Latency\n| a |"),
    ("## Camera ingest\ntext", "### Camera ingest\ntext"),
    ("#### Deep\n##### Deeper", "### Deep\n#### Deeper"),
    ("no headings | #not one", "no headings | #not one"),
])
def test_shift_headings(markdown: str, expected: str) -> None:
    assert shift_headings(markdown) == expected


@pytest.fixture
def fake_benches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Tiny benchmark modules on PYTHONPATH that write to tmp_path/out like the real ones."""
    out = tmp_path / "out"
    modules = {
        "fake_ok": f"""
            from pathlib import Path
            Path({str(out)!r}, "fake_ok.md").write_text("## Fake\\n\\n| x | 1.00 |\\n")
        """,
        "fake_fails": """
            import sys
            print("measuring…")
            sys.exit("bench broke: no RTSP server")
        """,
        "fake_hangs": """
            import time
            print("started", flush=True)
            time.sleep(60)
        """,
    }
    for name, code in modules.items():
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(code))
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    return out


def test_successful_bench_report_is_collected(fake_benches: Path) -> None:
    outcome = run_bench(Bench("fake_ok", "fake_ok", 30), full=False, out_dir=fake_benches)
    assert outcome.ok and outcome.status == "ok"
    assert outcome.report == "## Fake\n\n| x | 1.00 |\n"


def test_failed_bench_is_reported_and_its_stale_table_dropped(fake_benches: Path) -> None:
    fake_benches.mkdir(parents=True)
    (fake_benches / "fake_fails.md").write_text("| stale | 9.99 |\n")
    outcome = run_bench(Bench("fake_fails", "fake_fails", 30), full=False,
                        out_dir=fake_benches)
    assert not outcome.ok
    assert outcome.status == "failed (exit 1)"
    assert outcome.report is None
    assert not (fake_benches / "fake_fails.md").exists()
    assert "bench broke: no RTSP server" in outcome.log_tail()


def test_hung_bench_is_killed_at_its_timeout(fake_benches: Path) -> None:
    outcome = run_bench(Bench("fake_hangs", "fake_hangs", 2), full=False, out_dir=fake_benches)
    assert not outcome.ok
    assert outcome.status == "timed out after 2 s"
    assert outcome.seconds < 20
    assert "started" in outcome.log_tail()


def test_results_show_every_table_and_every_failure(fake_benches: Path) -> None:
    outcomes = [run_bench(Bench(name, name, 30), full=False, out_dir=fake_benches)
                for name in ("fake_ok", "fake_fails")]
    text = render(outcomes, started=datetime(2030, 1, 1, tzinfo=UTC), minutes=1.0, full=False,
                  load_start=(1.0, 2.0, 3.0), load_end=(1.5, 2.0, 3.0))
    assert "### Fake\n\n| x | 1.00 |" in text
    assert "**failed (exit 1)**" in text
    assert "bench broke: no RTSP server" in text
    assert "1.00 / 2.00 / 3.00" in text
    assert "| cores |" in text


def test_a_rerun_of_one_bench_keeps_the_others_sections(fake_benches: Path) -> None:
    first = [run_bench(Bench(name, name, 30), full=False, out_dir=fake_benches)
             for name in ("fake_ok", "fake_fails")]
    when = datetime(2030, 1, 1, tzinfo=UTC)
    previous = render(first, started=when, minutes=1.0, full=False,
                      load_start=(1.0, 2.0, 3.0), load_end=(1.5, 2.0, 3.0))
    kept = kept_sections(previous, {"fake_ok"})
    assert set(kept) == {"fake_ok"} and "| x | 1.00 |" in kept["fake_ok"].section
    rerun = [run_bench(Bench("fake_fails", "fake_fails", 30), full=False, out_dir=fake_benches)]
    text = render(rerun, started=when, minutes=0.5, full=False, load_start=(1.0, 2.0, 3.0),
                  load_end=(1.5, 2.0, 3.0), kept=kept)
    assert "### Fake\n\n| x | 1.00 |" in text  # kept from the first run
    assert "| [fake_ok](#fake_ok) | ok |" in text and "| [fake_fails](#fake_fails) |" in text
    assert text.count("## fake_ok\n") == 1 and "This run: fake_fails" in text
    again = render(rerun, started=when, minutes=0.5, full=False, load_start=(1.0, 2.0, 3.0),
                   load_end=(1.5, 2.0, 3.0), kept=kept_sections(text, {"fake_ok"}))
    assert again == text  # keeping a section twice adds no blank lines
