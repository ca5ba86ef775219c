"""The console end to end in a real headless Chromium (Debian's chromium + chromium-driver),
driven by Selenium with the driver path given explicitly (Selenium Manager never downloads).

One browser and one console server (the real `strands-deploy ui` process, stopped with Ctrl-C by
pid) for the whole module; the steps run in order like a user's session. Screenshots of each view
go to $STRANDS_CONSOLE_SCREENSHOTS (e.g. docs/img) or to a temporary artefact folder.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.console.conftest import deployable

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
MISSING = [p for p in (CHROMIUM, CHROMEDRIVER) if not shutil.which(p)]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        bool(MISSING),
        reason=f"browser tests skipped: {' and '.join(MISSING)} missing (apt-get install chromium chromium-driver)",
    ),
]
BIN = Path(sys.executable).parent / "strands-deploy"


class Session:
    def __init__(self, driver: Any, url: str, root: Path, shots: Path) -> None:
        self.driver, self.url, self.root, self.shots = driver, url, root, shots
        self.base = url.split("/?")[0]

    def wait(self, condition: Any, timeout: float = 30) -> Any:
        from selenium.webdriver.support.ui import WebDriverWait

        return WebDriverWait(self.driver, timeout, poll_frequency=0.1).until(condition)

    def find(self, css: str) -> Any:
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, css)

    def tab(self, view: str) -> None:
        self.find(f'#tabs button[data-view="{view}"]').click()

    def shot(self, name: str) -> None:
        self.driver.save_screenshot(str(self.shots / f"console-{name}.png"))

    def js(self, script: str, *args: Any) -> Any:
        return self.driver.execute_script(script, *args)


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory, cloud: Any) -> Iterator[Session]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    root = deployable(tmp_path_factory.mktemp("ui") / "shop", "shop", cloud.endpoint)
    shots = Path(os.environ.get("STRANDS_CONSOLE_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    shots.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "NO_COLOR": "1"}
    proc = subprocess.Popen(
        [str(BIN), "-C", str(root), "ui", "--port", "0", "--no-open"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    driver = None
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and "token=" in url, url
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        profile = tmp_path_factory.mktemp("chromium-profile")
        for flag in (
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1400,900",
        ):  # fmt: skip
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
        yield Session(driver, url, root, shots)
    finally:
        if driver is not None:
            driver.quit()
        proc.send_signal(signal.SIGINT)  # Ctrl-C
        try:
            code = proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise AssertionError("the console did not stop on Ctrl-C") from None
        assert code == 0, proc.stderr.read() if proc.stderr else code


def test_open_the_console_and_see_a_node_per_agent(ui: Session) -> None:
    ui.driver.get(ui.url)
    ui.wait(lambda d: ui.js("return document.body.dataset.ready") == "1")
    assert "token=" not in ui.driver.current_url  # the token moved into a cookie
    agents = ui.js("return consoleState.cy.nodes('[kind = \"agent\"]').map(n => n.id()).sort()")
    assert agents == ["agent:support", "agent:writer"]
    ui.shot("architecture")


def test_change_memory_in_the_form_writes_strands_yaml(ui: Session) -> None:
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    ui.tab("build")
    Select(ui.find("#agent-select")).select_by_visible_text("support")
    field = ui.find("#f-memory")
    field.clear()
    field.send_keys("1536", Keys.TAB)  # a change event, as a person leaving the field
    path = ui.root / "strands.yaml"
    ui.wait(lambda d: "memory: 1536" in path.read_text())
    text = path.read_text()
    assert text.startswith("# Built for the console's deploy tests\n")  # the comment is intact
    assert "  support:\n    path: agents/support\n    link: [tickets]\n    memory: 1536\n" in text
    ui.wait(lambda d: "memory: 1536" in ui.js("return consoleState.editor.getValue()"))
    ui.wait(lambda d: ui.find("#problems").get_attribute("class") == "ok")
    ui.shot("build")


def test_an_edit_on_disk_appears_in_the_console(ui: Session) -> None:
    path = ui.root / "strands.yaml"
    path.write_text(
        path.read_text().replace("  writer:\n", "  writer:\n    description: Writes the replies\n")
    )
    ui.wait(lambda d: "Writes the replies" in ui.js("return consoleState.editor.getValue()"), timeout=10)


def test_deploy_to_the_local_cloud(ui: Session) -> None:
    ui.tab("deploy")
    ui.find("#deploy").click()
    ui.wait(
        lambda d: d.find_elements("css selector", "#deploy-done, #deploy-failed, .msg.error"), timeout=180
    )
    assert ui.driver.find_elements("css selector", "#deploy-done"), ui.find("#deploy-result").text
    rows = ui.js("return [...document.querySelectorAll('#progress tr')].map(r => r.innerText)")
    assert any("agent.support.function" in r and "done" in r for r in rows)
    ui.shot("deploy")
    ui.tab("architecture")
    ui.wait(lambda d: ui.js("return consoleState.cy.$id('agent:support').data('status')") == "deployed")


def test_chat_with_the_deployed_agent(ui: Session) -> None:
    from selenium.webdriver.support.ui import Select

    ui.tab("playground")
    Select(ui.find("#chat-agent")).select_by_visible_text("support")
    ui.find("#chat-input").send_keys("Hello from the browser")
    ui.find("#send").click()
    ui.wait(lambda d: d.find_elements("css selector", ".msg.answer, #messages .msg.error"), timeout=120)
    answer = ui.find("#messages .msg:last-child")
    assert "answer" in answer.get_attribute("class"), answer.text
    assert "tokens:" in answer.text
    assert ui.find("#chat-session").text not in ("(new)", "")
    ui.shot("playground")


def test_logs_and_history(ui: Session) -> None:
    from selenium.webdriver.support.ui import Select

    ui.tab("logs")
    Select(ui.find("#logs-agent")).select_by_visible_text("support")
    ui.find("#logs-load").click()
    ui.wait(lambda d: "START RequestId" in ui.find("#log-lines").text, timeout=30)
    ui.shot("logs")
    ui.tab("history")
    ui.wait(lambda d: "strands-deploy ui (deploy --env local)" in ui.find("#history").text)
    ui.shot("history")
    ui.tab("templates")
    ui.wait(lambda d: "multi-agent" in ui.find("#gallery").text)
    ui.shot("templates")


def test_build_an_agent_with_a_linked_table_in_the_browser(ui: Session) -> None:
    """Forms add a table and an agent; the link is drawn on the graph (Draw link, then the agent's
    node, then the table's: the taps are sent to the graph's nodes). The YAML reads as by hand."""
    from selenium.webdriver.support.ui import Select

    ui.tab("build")
    ui.find("#new-resource").send_keys("notes")
    Select(ui.find("#new-resource-type")).select_by_visible_text("table")
    ui.find("#add-resource").click()
    ui.wait(lambda d: ui.js("return consoleState.cy.$id('resource:notes').length") == 1)
    ui.find("#new-agent").send_keys("helper")
    ui.find("#add-agent").click()
    ui.wait(lambda d: ui.js("return consoleState.cy.$id('agent:helper').length") == 1)
    ui.find("#draw-link").click()
    ui.js("consoleState.cy.$id('agent:helper').emit('tap')")
    ui.js("consoleState.cy.$id('resource:notes').emit('tap')")
    ui.wait(lambda d: ui.js("return consoleState.cy.$id('link:helper:notes').length") == 1)
    text = (ui.root / "strands.yaml").read_text()
    assert "  helper:\n    path: agents/helper\n    link: [notes]\n" in text
    assert "  notes: {type: table, key: id}\n" in text
    assert (ui.root / "agents/helper/agent.py").exists()
    ui.shot("build-linked")


def test_a_hundred_agent_graph_is_drawn(ui: Session) -> None:
    """Draw time is measured and printed (reported), not asserted."""
    ui.tab("architecture")
    ms = ui.js(
        """
        const nodes = [], edges = [], status = {};
        for (let i = 0; i < 10; i++) nodes.push({id: 'resource:t' + i, kind: 'resource', label: 't' + i});
        for (let i = 0; i < 100; i++) {
          nodes.push({id: 'agent:a' + i, kind: 'agent', label: 'a' + i});
          edges.push({id: 'l' + i, kind: 'link', source: 'agent:a' + i, target: 'resource:t' + (i % 10), label: ''});
        }
        drawGraph({nodes, edges, status});
        return [consoleState.drawMs, consoleState.cy.nodes('[kind = "agent"]').length];
        """
    )
    assert ms[1] == 100
    print(f"\n100-agent graph drawn in {ms[0]} ms")
    ui.shot("graph-100")
    ui.js("return loadGraph()")


def test_a_request_without_the_token_is_refused(ui: Session) -> None:
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(f"{ui.base}/api/graph", timeout=10)
    assert err.value.code == 401
    ui.driver.delete_all_cookies()
    ui.driver.get(ui.base + "/")
    assert "needs its token" in ui.driver.page_source
