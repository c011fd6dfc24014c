"""The command line silences only the storage libraries' warnings, by category: labvault's own
warnings and everyone else's still reach stderr."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import warnings
from labvault.cli.main import quiet_storage_warnings
quiet_storage_warnings()
for module in ("botocore.client", "gcsfs.core", "adlfs.spec", "aiohttp.client", "fsspec"):
    warnings.warn_explicit("storage noise from " + module, UserWarning, "x.py", 1, module=module)
    warnings.warn_explicit("storage noise from " + module, DeprecationWarning, "x.py", 2, module=module)
warnings.warn_explicit("own warning", UserWarning, "y.py", 1, module="labvault.core.odb")
warnings.warn_explicit("other library", UserWarning, "z.py", 1, module="numpy.core")
warnings.warn_explicit("other category", RuntimeWarning, "w.py", 1, module="botocore.client")
"""


def test_only_storage_noise_is_silenced() -> None:
    proc = subprocess.run([sys.executable, "-W", "default", "-c", SCRIPT], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "storage noise" not in proc.stderr
    for shown in ("own warning", "other library", "other category"):
        assert shown in proc.stderr, proc.stderr


def test_the_command_line_shows_other_warnings() -> None:
    """No catch-all filter: a warning raised while a command runs is printed."""
    code = (
        "import sys, warnings\n"
        "from labvault.cli import main as m\n"
        "sys.argv = ['labvault', '--version']\n"
        "orig = m.cli.main\n"
        "def wrapped(*a, **k):\n"
        "    warnings.warn('visible', UserWarning)\n"
        "    return orig(*a, **k)\n"
        "m.cli.main = wrapped\n"
        "try:\n"
        "    m.main()\n"
        "except SystemExit:\n"
        "    pass\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "visible" in proc.stderr, proc.stderr
