"""ComfyUI's web frontend (comfyui-frontend-package) in headless Chromium against `nodeflow serve
--frontend`: it loads without console errors or failed requests, its node library holds every node
/object_info lists, and a NodeFlow graph on the built-in model, queued with the frontend's Run
button, runs and shows its picture on the Save Image node, and Ctrl+S saves the workflow into the
user data folder's workflows/, where the frontend's workflow list finds it. Skipped where Chromium is not installed
(CI machines have none); the routes themselves are checked without a browser in
test_frontend_routes.py and test_frontend.py. Screenshots are left in the test's temp folder."""

from __future__ import annotations

import json

import pytest

from tests.serve.chromium import Page, find_chromium
from tests.serve.conftest import JOB_TIMEOUT, START_TIMEOUT, Server, tiny_prompt

CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (Debian: apt-get install "
                                "chromium): ComfyUI's frontend is loaded in a browser only where one is")
pytest.importorskip("comfyui_frontend_package", reason="ComfyUI's web frontend is not installed: "
                    "pip install 'nodeflow[frontend]'")

#: JavaScript: click the button whose aria-label (or, without one, text) is `label`; false if none.
CLICK = """(label) => { const button = [...document.querySelectorAll('button')]
    .find(b => (b.getAttribute('aria-label') || b.innerText.trim()) === label);
    if (button) button.click(); return Boolean(button); }"""
#: The frontend has asked for its queue and history (the last of its startup reads).
SETTLED = "performance.getEntriesByType('resource').some(e => e.name.includes('/api/jobs?'))"


def click(page: Page, label: str) -> bool:
    return page.evaluate(f"({CLICK})({json.dumps(label)})")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    root = tmp_path_factory.mktemp("serve_browser")
    server = Server(root / "home", root, ("--frontend",)).start()
    page = None
    try:
        page = Page(CHROMIUM, root / "profile").start()
        page.navigate(server.url + "/")
        page.wait_for("window.app?.graph && window.LiteGraph && "
                      "Object.keys(LiteGraph.registered_node_types).length > 0", START_TIMEOUT)
        page.wait_for(SETTLED, START_TIMEOUT)
        yield server, page, root
    finally:
        if page is not None:
            page.close()
        server.stop()
        server.kill()


def test_the_frontend_loads_cleanly_and_lists_nodeflows_nodes(browser):
    server, page, root = browser
    registered = set(page.evaluate("Object.keys(LiteGraph.registered_node_types)"))
    listed = set(server.json("/api/object_info"))
    assert listed <= registered, sorted(listed - registered)[:20]
    # a first visit opens the template browser, which offers NodeFlow's workflows on the built-in model
    page.wait_for("document.body.innerText.includes('tiny_shapes_text_to_image')", 60)
    page.screenshot(root / "templates.png")
    assert click(page, "Close dialog")
    assert click(page, "Node Library (n)")
    page.wait_for("document.body.innerText.includes('sampling')", 30)  # NodeFlow's categories
    page.screenshot(root / "node_library.png")
    assert page.errors() == [] and page.failed == [], page.report()


def test_a_nodeflow_graph_queued_with_run_shows_its_picture(browser):
    server, page, root = browser
    click(page, "Close dialog")
    types = page.evaluate(f"app.loadApiJson({json.dumps(tiny_prompt())}, 'tiny-shapes.json')"
                          ".then(() => app.graph.nodes.map(n => n.type))")
    assert sorted(types) == sorted(node["class_type"] for node in tiny_prompt().values())
    assert click(page, "Fit View (.)")  # the Save Image node on screen: a node off screen draws no picture
    assert click(page, "Run")
    filename = page.wait_for("app.nodeOutputs['9']?.images?.[0]?.filename", JOB_TIMEOUT)
    # the picture is fetched from /view and drawn on the node
    size = page.wait_for("app.graph.getNodeById(9).imgs?.[0]?.naturalWidth", 60)
    assert size == 32 and (server.out / filename).is_file()
    jobs = server.json("/api/jobs?status=completed")["jobs"]
    assert [j["preview_output"]["filename"] for j in jobs] == [filename]
    page.screenshot(root / "ran.png")
    assert page.errors() == [] and page.failed == [], page.report()


#: JavaScript: type `name` into the open dialog's text field, as a user would (Vue listens to `input`).
TYPE_NAME = """(name) => { const field = document.querySelector('[role=dialog] input');
    if (!field) return false; field.value = name; field.dispatchEvent(new Event('input')); return true; }"""


def test_saving_the_workflow_keeps_it_in_the_user_data_folder_and_lists_it(browser):
    server, page, root = browser
    click(page, "Close dialog")
    page.evaluate("window.dispatchEvent(new KeyboardEvent('keydown', {key: 's', code: 'KeyS', ctrlKey: true}))")
    page.wait_for("document.body.innerText.includes('Enter the filename')", 30)
    assert page.evaluate(f"({TYPE_NAME})('saved in the browser')") and click(page, "Confirm")
    saved = server.home / "workflows" / "saved in the browser.json"
    page.wait_for("app.extensionManager.workflow.syncWorkflows().then(() => app.extensionManager.workflow"
                  ".persistedWorkflows.some(w => w.path === 'workflows/saved in the browser.json'))", 30)
    assert {node["type"] for node in json.loads(saved.read_text())["nodes"]} >= {"SaveImage", "KSampler"}
    page.screenshot(root / "saved.png")
    assert page.errors() == [] and page.failed == [], page.report()
