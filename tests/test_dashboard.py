"""The dashboard (market/app.py): its control mapping, and a run in headless Chromium.

The browser test starts ``solara run market/app.py`` on a free loopback port,
drives the page with Playwright in Debian's Chromium, and saves a screenshot.
It skips, with the reason, when Chromium, Playwright or the ``viz`` extra is
missing. The page may load nothing from other hosts: every such request is
aborted and fails the test.
"""

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Solara serves its JavaScript from this cache, which the solara-assets package fills.
ASSET_CACHE = Path(sys.prefix) / "share" / "solara" / "cdn"
# A loopback port with no server: a Solara asset missing from the cache fails here at once instead of
# being fetched from the public CDN.
NO_CDN = "http://127.0.0.1:9/"
SERVER_START_TIMEOUT = 90.0
# One round of 2,000 users with its five charts took 1 to 3 s on the 2-core development machine while
# other jobs ran, so each wait allows far more.
UI_TIMEOUT_MS = 90_000
STEPS = 3


def _viz_missing():
    """Return why the viz extra cannot run, or None."""
    for module in ("solara", "mesa.visualization", "matplotlib"):
        try:
            found = importlib.util.find_spec(module) is not None
        except ImportError:
            found = False
        if not found:
            return f"{module} is not installed; install the viz extra: pip install -e '.[viz]'"
    return None


def _browser_missing():
    """Return why the browser test cannot run, or None."""
    reason = _viz_missing()
    if reason:
        return reason
    if importlib.util.find_spec("playwright") is None:
        return "Playwright's Python package is not installed; install the viz extra: pip install -e '.[viz]'"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} not found; install Debian's chromium package: apt-get install -y chromium"
    if not ASSET_CACHE.is_dir():
        return f"Solara's asset cache {ASSET_CACHE} is missing; install the viz extra (it brings solara-assets)"
    return None


# Control mapping: no browser needed.


@pytest.fixture(scope="module")
def app():
    reason = _viz_missing()
    if reason:
        pytest.skip(reason)
    import market.app

    return market.app


def _control_defaults(app):
    return {name: options["value"] for name, options in app.model_params.items()}


def test_controls_default_scenario(app):
    scenario = app.scenario_from_controls(**_control_defaults(app))

    assert scenario == app.DEFAULTS.with_overrides({"users.count": app.DEFAULT_USERS})


def test_controls_cover_default_platforms(app):
    expected = {f"{name}_{key}" for name in app.PLATFORMS for key in app.PLATFORM_KEYS}

    assert expected <= set(app.model_params)
    assert set(app.PLATFORMS) == {platform.name for platform in app.default_scenario().platforms}


def test_controls_map_to_scenario_keys(app):
    controls = _control_defaults(app) | {
        "seed": " 7 ",
        "users": 1500,
        "elasticity": 5.5,
        "multihoming_share": 0.4,
        "competitor_weight": 0.3,
        "mosaic_tau": 0.2,
        "mosaic_tau_policy": "revenue_greedy",
        "mosaic_candidates": 8,
        "mosaic_generator": "reference",
        "embedding_auction": "keyword",
    }

    scenario = app.scenario_from_controls(**controls)
    platforms = {platform.name: platform for platform in scenario.platforms}

    assert scenario.seed == 7
    assert scenario.users.count == 1500
    assert scenario.users.elasticity == 5.5
    assert scenario.users.multihoming_share == 0.4
    assert scenario.advertisers.competitor_weight == 0.3
    assert platforms["mosaic"].tau == 0.2
    assert platforms["mosaic"].tau_policy == "revenue_greedy"
    assert platforms["mosaic"].candidates == 8
    assert platforms["mosaic"].generator == "reference"
    assert platforms["embedding"].auction == "keyword"


def test_controls_reject_bad_seed(app):
    with pytest.raises(ValueError, match="seed must be a whole number"):
        app.scenario_from_controls(**(_control_defaults(app) | {"seed": "abc"}))


def test_controls_reject_unknown_name(app):
    with pytest.raises(TypeError, match="unknown dashboard controls"):
        app.scenario_from_controls(**(_control_defaults(app) | {"mosaic_gate": 0.5}))


def test_dashboard_model_steps(app):
    model = app.DashboardModel(users=500, mosaic_tau=0.1)
    model.step()

    table = model.dashboard_table()
    mosaic = table[(table["platform"] == "mosaic") & (table["round"] == 1)]
    assert model.round == 1
    assert mosaic["tau"].item() == 0.1
    assert set(table["platform"]) == {*app.PLATFORMS, app.OUTSIDE}


# The browser test.


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_serving(url, process, log_path):
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"solara exited with status {process.returncode} before serving:\n{log_path.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    pytest.fail(f"solara did not serve {url} within {SERVER_START_TIMEOUT:.0f} s:\n{log_path.read_text()}")


@pytest.fixture
def dashboard_url(tmp_path):
    reason = _browser_missing()
    if reason:
        pytest.skip(reason)

    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    env = os.environ | {
        # Solara sends usage statistics to Mixpanel unless this is off, and the test contacts no other host.
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false",
        "SOLARA_ASSETS_CDN": NO_CDN,
        "SOLARA_HOME": str(tmp_path / "solara-home"),
    }
    command = [
        sys.executable, "-m", "solara", "run", "market/app.py",
        "--host", "127.0.0.1", "--port", str(port), "--no-open", "--production",
    ]
    log_path = tmp_path / "solara.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        _wait_until_serving(url, process, log_path)
        yield url
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _share_image(page, attempts=10):
    """Return the share plot's PNG bytes, retrying while the page swaps in a newly rendered image.

    The panel replaces its <img> after each round, so an element screenshot can
    find the element detached; the locator resolves the new one on the next try.
    """
    from playwright.sync_api import Error

    for attempt in range(attempts):
        try:
            return page.locator(".share-panel img").screenshot(timeout=UI_TIMEOUT_MS)
        except Error:
            if attempt == attempts - 1:
                raise
            page.wait_for_timeout(200)


def _share_caption(page):
    return page.locator(".share-panel .panel-caption").inner_text()


def _step(page, expected_round):
    page.get_by_role("button", name="Step").click()
    page.locator(".share-panel .panel-caption", has_text=f"Round {expected_round}:").wait_for(timeout=UI_TIMEOUT_MS)


def _headline_cell(page, row_label, column):
    """Return the text of one cell of the headline table, by row label and platform column."""
    table = page.locator(".headline-panel table")
    headers = [text.strip() for text in table.locator("thead th").all_inner_texts()]
    row = table.locator("tbody tr", has=page.locator("th", has_text=row_label)).first
    return row.locator("th, td").nth(headers.index(column)).inner_text().strip()


def test_dashboard_in_browser(dashboard_url, tmp_path):
    from playwright.sync_api import sync_playwright

    outside_requests, failed_responses = [], []
    origin = dashboard_url.rstrip("/")

    def keep_on_loopback(route):
        url = route.request.url
        if url.startswith((origin, "data:", "blob:")):
            route.continue_()
        else:
            outside_requests.append(url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 2000})
            page.route("**/*", keep_on_loopback)
            page.on("response", lambda response: failed_responses.append(f"{response.status} {response.url}")
                    if response.status >= 400 else None)
            page.goto(dashboard_url)
            page.get_by_role("button", name="Step").wait_for(timeout=UI_TIMEOUT_MS)
            page.locator(".share-panel img").wait_for(timeout=UI_TIMEOUT_MS)

            start_caption = _share_caption(page)
            start_image = _share_image(page)

            for expected_round in range(1, STEPS + 1):
                _step(page, expected_round)
            stepped_caption = _share_caption(page)
            stepped_image = _share_image(page)

            # Move mosaic's τ slider to its maximum from the keyboard, then rebuild the model.
            slider = page.locator(".v-input", has_text="mosaic: τ").locator("[role=slider]")
            tau_before = slider.get_attribute("aria-valuenow")
            slider.focus()
            slider.press("End")
            tau_after = slider.get_attribute("aria-valuenow")
            page.get_by_role("button", name="Reset").click()
            page.locator(".share-panel .panel-caption", has_text="Round 0:").wait_for(timeout=UI_TIMEOUT_MS)
            for expected_round in range(1, STEPS + 1):
                _step(page, expected_round)
            tau_in_table = _headline_cell(page, "τ ($)", "mosaic")

            screenshot = tmp_path / "dashboard_screenshot.png"
            page.screenshot(path=str(screenshot), full_page=True)
            error_alerts = page.locator(".v-alert.error").count()
            page_text = page.locator("body").inner_text()
        finally:
            browser.close()

    try:
        (ROOT / "results").mkdir(exist_ok=True)
        shutil.copyfile(screenshot, ROOT / "results" / "dashboard_screenshot.png")
    except OSError as error:
        print(f"could not copy the screenshot to results/: {error}")
    print(f"dashboard screenshot: {screenshot}")

    assert start_caption.startswith("Round 0:")
    assert stepped_caption.startswith(f"Round {STEPS}:")
    assert stepped_caption.split(":", 1)[1] != start_caption.split(":", 1)[1]
    assert stepped_image != start_image
    assert tau_before == "0.05"
    assert tau_after == "0.5"
    assert tau_in_table == "0.5000"
    assert error_alerts == 0
    assert "Traceback" not in page_text
    assert outside_requests == []
    assert failed_responses == []
