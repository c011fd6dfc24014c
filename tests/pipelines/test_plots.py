"""``api.plots_show``: the data series of dvc.yaml's ``plots:`` read from CSV, TSV, JSON and YAML."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

from labvault import api
from tests.conftest import _labvault_cmd


def _repo(tmp_path: Path, pipeline: str) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    api.init(repo)
    (repo / "dvc.yaml").write_text(pipeline)
    return repo


def test_stage_and_top_level_plots_read_their_series(tmp_path: Path) -> None:
    repo = _repo(tmp_path, """stages:
  train:
    cmd: python3 train.py
    plots:
      - logs/loss.csv: {cache: false, x: epoch, y: [loss, val_loss], title: Loss}
      - logs/acc.tsv: {cache: false}
plots:
  - eval/roc.json: {x: fpr, y: tpr}
  - confusion:
      y: {eval/a.yaml: score, eval/b.yaml: [score]}
      x: run
  - outside.csv
""")
    (repo / "logs").mkdir()
    (repo / "eval").mkdir()
    (repo / "logs/loss.csv").write_text("epoch,loss,val_loss\n1,0.9,1.0\n2,0.5,0.7\n3,0.2,bad\n")
    (repo / "logs/acc.tsv").write_text("step\tname\tacc\n0\ta\t0.5\n1\tb\t0.75\n")
    (repo / "eval/roc.json").write_text(json.dumps({"roc": [{"fpr": 0, "tpr": 0}, {"fpr": 0.5, "tpr": 0.9}]}))
    (repo / "eval/a.yaml").write_text("- {run: first, score: 1}\n- {run: second, score: 2}\n")
    (repo / "eval/b.yaml").write_text("- {run: first, score: 3}\n")
    plots = {p.id: p for p in api.plots_show(repo=repo)}
    assert list(plots) == ["logs/loss.csv", "logs/acc.tsv", "eval/roc.json", "confusion", "outside.csv"]

    loss = plots["logs/loss.csv"]
    assert (loss.title, loss.x, loss.error) == ("Loss", "epoch", None)
    assert [(s.field, s.points) for s in loss.series] == [
        ("loss", ((1.0, 0.9), (2.0, 0.5), (3.0, 0.2))),
        ("val_loss", ((1.0, 1.0), (2.0, 0.7))),  # a value that is not a number is left out
    ]
    acc = plots["logs/acc.tsv"]  # no x: the row number; no y: the last field
    assert acc.x == "step" and [(s.field, s.points) for s in acc.series] == [("acc", ((0, 0.5), (1, 0.75)))]
    assert plots["eval/roc.json"].series[0].points == ((0.0, 0.0), (0.5, 0.9))
    confusion = plots["confusion"]
    assert [(s.file, s.points) for s in confusion.series] == [
        ("eval/a.yaml", (("first", 1.0), ("second", 2.0))), ("eval/b.yaml", (("first", 3.0),))]
    missing = plots["outside.csv"]
    assert missing.series == () and missing.error is not None and "outside.csv" in missing.error


def test_a_plot_path_leaving_the_repository_is_refused_unread(tmp_path: Path) -> None:
    repo = _repo(tmp_path, "plots:\n  - ../secret.csv\n")
    (tmp_path / "secret.csv").write_text("a,b\n1,2\n")
    [plot] = api.plots_show(repo=repo)
    assert plot.series == () and plot.error == "../secret.csv: leaves the repository"


def test_a_plot_symlinked_out_of_the_repository_is_refused_unread(tmp_path: Path) -> None:
    repo = _repo(tmp_path, "plots:\n  - link.csv\n")
    (tmp_path / "secret.csv").write_text("a,b\n1,2\n")
    (repo / "link.csv").symlink_to(tmp_path / "secret.csv")
    [plot] = api.plots_show(repo=repo)
    assert plot.series == () and plot.error == "link.csv: leaves the repository"


TRAIN = """stages:
  train:
    cmd: python3 -c "import sys; open('loss.csv','w').write('epoch,loss\\\\n1,' + sys.argv[1] + '\\\\n2,0.5\\\\n')" {first}
    plots:
      - loss.csv: {{x: epoch, title: Loss}}
"""


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def _committed_runs(tmp_path: Path) -> Path:
    """Two commits (tags v1, v2) of a stage whose plot is a cached output: git holds only its
    dvc.lock entry, so a revision's plot is read from the cache."""
    repo = _repo(tmp_path, TRAIN.format(first="0.9"))
    for tag, first in (("v1", "0.9"), ("v2", "0.7")):
        (repo / "dvc.yaml").write_text(TRAIN.format(first=first))
        api.repro(repo=repo)
        _git(repo, "add", "-A")
        _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", tag)
        _git(repo, "tag", tag)
    return repo


def test_plots_at_revisions_come_from_git_and_the_cache(tmp_path: Path) -> None:
    repo = _committed_runs(tmp_path)
    assert "loss.csv" in (repo / ".gitignore").read_text()  # not in git: from the cache via dvc.lock
    (repo / "loss.csv").unlink()
    [old] = api.plots_show(repo=repo, rev="v1")
    assert (old.id, old.error, old.series[0].points) == ("loss.csv", None, ((1.0, 0.9), (2.0, 0.5)))
    sides = api.plots_diff(["v1", "v2"], repo=repo)
    assert [(s.rev, s.error, s.plots[0].series[0].points[0]) for s in sides] == [
        ("v1", None, (1.0, 0.9)), ("v2", None, (1.0, 0.7))]
    # no revision: HEAD and the workspace (whose missing output is read as dvc.lock records it,
    # from the cache, as metrics show reads a missing metrics output)
    (repo / ".dvc" / "cache" / "files" / "md5").rename(tmp_path / "gone")
    head, work = api.plots_diff(repo=repo)
    assert (head.rev, head.plots[0].error) == ("HEAD", "loss.csv: does not exist at HEAD")
    assert (work.rev, work.plots[0].error) == ("workspace", "loss.csv: does not exist at workspace")
    (tmp_path / "gone").rename(repo / ".dvc" / "cache" / "files" / "md5")
    (repo / "loss.csv").write_text("epoch,loss\n1,0.1\n")
    head, work = api.plots_diff(repo=repo)
    assert [s.plots[0].series[0].points for s in (head, work)] == [((1.0, 0.7), (2.0, 0.5)), ((1.0, 0.1),)]
    [bad] = api.plots_diff(["no-such-rev", "v1"], repo=repo)[:1]
    assert bad.plots == () and bad.error is not None and "no-such-rev" in bad.error


def test_plots_cli_writes_one_self_contained_page(tmp_path: Path) -> None:
    repo = _committed_runs(tmp_path)
    out = tmp_path / "page"
    cmd = [*_labvault_cmd(), "plots", "diff", "v1", "v2", "-o", str(out)]
    done = subprocess.run(cmd, cwd=repo, capture_output=True, text=True, check=True)
    page = (out / "index.html").read_text()
    assert done.stdout.strip() == f"1 plot(s): file://{out / 'index.html'}"
    assert page.count("<svg") == 1 and "v1: loss" in page and "v2: loss" in page and ">Loss<" in page
    assert "<script" not in page and "src=" not in page and "href=" not in page and "@import" not in page
    shown = subprocess.run([*_labvault_cmd(), "plots", "show", "--json"], cwd=repo,
                           capture_output=True, text=True, check=True)
    [side] = json.loads(shown.stdout)
    assert side["rev"] == "workspace" and side["plots"][0]["series"][0]["points"] == [[1.0, 0.7], [2.0, 0.5]]
    assert not (repo / "dvc_plots").exists()  # --json writes no page


def _png(rgb: tuple[int, int, int], side: int = 2) -> bytes:
    """A valid PNG of one colour (enough for a browser to draw it)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\x00" + bytes(rgb) * side for _ in range(side))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


IMAGES = """stages:
  draw:
    cmd: python3 draw.py {colour}
    plots:
      - figs: {{x: step}}
plots:
  - cm.png
  - logs
"""
DRAW = f"""import os, sys, base64
os.makedirs("figs/sub", exist_ok=True)
blue = base64.b64decode({base64.b64encode(_png((0, 0, 255))).decode()!r})
red = base64.b64decode({base64.b64encode(_png((255, 0, 0))).decode()!r})
open("figs/roc.png", "wb").write(blue if sys.argv[1] == "blue" else red)
open("figs/sub/loss.csv", "w").write("step,loss\\n0,1\\n1,0.5\\n")
"""


def test_image_plots_and_folders_of_plots(tmp_path: Path) -> None:
    """An image is shown as it is (its bytes, base64), told by its name as dvc does; a folder
    stands for every file in it, one plot each, with the folder's options."""
    repo = _repo(tmp_path, IMAGES.format(colour="blue"))
    (repo / "draw.py").write_text(DRAW)
    (repo / "cm.png").write_bytes(_png((0, 255, 0)))
    (repo / "logs").mkdir()
    (repo / "logs/acc.json").write_text('[{"acc": 0.5}, {"acc": 0.75}]')
    (repo / "logs/up.PNG").write_bytes(_png((9, 9, 9)))  # dvc 3.67 reads only lower-case names as images
    (repo / "logs/pic.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')
    api.repro(repo=repo)
    plots = {p.id: p for p in api.plots_show(repo=repo)}
    assert list(plots) == ["figs/roc.png", "figs/sub/loss.csv", "cm.png", "logs/acc.json", "logs/pic.svg",
                           "logs/up.PNG"]
    assert [(p.kind, p.mime, p.error) for p in plots.values()] == [
        ("image", "image/png", None), ("data", None, None), ("image", "image/png", None),
        ("data", None, None), ("image", "image/svg+xml", None), ("image", "image/png", None)]
    assert base64.b64decode(plots["cm.png"].image or "") == _png((0, 255, 0))
    assert base64.b64decode(plots["figs/roc.png"].image or "") == _png((0, 0, 255))
    loss = plots["figs/sub/loss.csv"]  # the folder's x applies to each of its files
    assert (loss.x, loss.series[0].points) == ("step", ((0.0, 1.0), (1.0, 0.5)))
    assert plots["logs/acc.json"].series[0].points == ((0, 0.5), (1, 0.75))


def test_image_plots_of_a_revision_come_from_the_cache(tmp_path: Path) -> None:
    repo = _repo(tmp_path, IMAGES.format(colour="blue"))
    (repo / "draw.py").write_text(DRAW)
    (repo / "cm.png").write_bytes(_png((0, 255, 0)))
    (repo / "logs").mkdir()
    api.repro(repo=repo)
    _git(repo, "add", "-A")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "blue")
    (repo / "dvc.yaml").write_text(IMAGES.format(colour="red"))
    api.repro(repo=repo)
    head, work = api.plots_diff(repo=repo)  # figs/ is not in git: HEAD's comes through dvc.lock
    assert base64.b64decode(head.plots[0].image or "") == _png((0, 0, 255))
    assert base64.b64decode(work.plots[0].image or "") == _png((255, 0, 0))
    assert head.plots[0].id == work.plots[0].id == "figs/roc.png"

    out = tmp_path / "page"
    subprocess.run([*_labvault_cmd(), "plots", "diff", "-o", str(out)], cwd=repo, capture_output=True,
                   check=True)
    page = (out / "index.html").read_text()
    for colour in ((0, 0, 255), (255, 0, 0), (0, 255, 0)):
        assert f'src="data:image/png;base64,{base64.b64encode(_png(colour)).decode()}"' in page
    assert "<script" not in page


def test_a_large_image_plot_is_refused_unread(tmp_path: Path) -> None:
    from labvault.pipelines import plots as plots_module

    repo = _repo(tmp_path, "plots:\n  - big.jpg\n")
    with open(repo / "big.jpg", "wb") as f:
        f.truncate(plots_module.MAX_IMAGE_BYTES + 1)
    [plot] = api.plots_show(repo=repo)
    assert (plot.kind, plot.image, plot.error) == ("image", None, "big.jpg: larger than 16 MiB")


def test_the_dashboard_embeds_small_image_plots_and_names_large_ones(tmp_path: Path) -> None:
    from labvault.web.pages_pipelines import MAX_PAGE_IMAGE, plot_charts

    repo = _repo(tmp_path, "plots:\n  - small.png\n  - large.gif\n")
    (repo / "small.png").write_bytes(_png((1, 2, 3)))
    (repo / "large.gif").write_bytes(b"GIF89a" + b"\0" * MAX_PAGE_IMAGE)
    (small, small_html), (large, large_html) = plot_charts(repo)
    assert small_html == f'<img class="plot-image" src="data:image/png;base64,{small.image}" alt="small.png">'
    assert large.image is not None and large.image not in large_html
    assert "image of 512 KiB: see labvault plots show" in large_html
