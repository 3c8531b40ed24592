"""Headless Chromium for the report tests: one launch gives the DOM after load and a screenshot.

Debian's `chromium` package is required (`./run tests` installs it on CI). `layout` adds a
measuring script to a copy of a page (the page itself has none): it writes the boxes of the
elements a test names into a hidden `<pre>`, which `--dump-dom` returns with the DOM.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

CHROME_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
    "--enable-logging=stderr",
    "--v=0",
]

_MEASURE = """<pre id="lp-layout" hidden></pre><script>
(function () {
  var out = {viewport: [window.innerWidth, document.documentElement.scrollHeight], boxes: {}};
  document.querySelectorAll("%s").forEach(function (el, i) {
    var r = el.getBoundingClientRect();
    out.boxes[el.id || (el.tagName + i)] = [r.left, r.top + window.scrollY, r.width, r.height];
  });
  document.getElementById("lp-layout").textContent = JSON.stringify(out);
})();
</script>"""


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "Debian package `chromium` is required (.ci/run installs it)"
    return found


def render(page: Path, profile: Path, shot: Path, size: tuple[int, int]) -> tuple[str, str]:
    """One Chromium launch: (DOM after load, stderr), with a screenshot of the window."""
    done = subprocess.run(
        [
            chromium(),
            *CHROME_FLAGS,
            f"--user-data-dir={profile}",
            "--dump-dom",
            f"--screenshot={shot}",
            f"--window-size={size[0]},{size[1]}",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout, done.stderr


def with_layout_probe(html: str, selector: str) -> str:
    """The page with a script that records the boxes of the elements matching `selector`."""
    return html.replace("</body>", _MEASURE % selector + "</body>")


def layout(dom: str) -> dict[str, Any]:
    """The boxes `with_layout_probe` recorded: {viewport: [w, h], boxes: {id: [x, y, w, h]}}."""
    start = dom.index('<pre id="lp-layout" hidden="">') + len('<pre id="lp-layout" hidden="">')
    text = dom[start : dom.index("</pre>", start)]
    return dict(json.loads(text.replace("&quot;", '"').replace("&amp;", "&")))


def console_messages(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "CONSOLE" in line]
