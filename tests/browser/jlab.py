"""Drive JupyterLab 4 and nbgrader's labextension in a Playwright page, as a person would.

Every helper waits on a state of the page (a selector, a prompt number, the kernel's
status), never on a fixed delay.
"""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

LOAD = 120_000  # ms: opening JupyterLab or a notebook on a busy machine
RUN = 240_000  # ms: running a whole chapter

_PROMPT_DONE = re.compile(r"\[\d+\]")


def open_lab(page: Page, lab, path: str = "lab") -> None:
    """Open JupyterLab at ``path`` with a fresh workspace and wait for its main area."""
    page.goto(lab.url(f"{path}?reset"))
    page.wait_for_selector("#jp-main-dock-panel", timeout=LOAD)


def open_notebook(page: Page, lab, path: str) -> Locator:
    """Open the notebook at ``path`` (relative to the server root); wait for an idle kernel."""
    open_lab(page, lab, f"lab/tree/{path}")
    notebook = current_panel(page).locator(".jp-Notebook")
    expect(notebook.locator(".jp-Cell").first).to_be_visible(timeout=LOAD)
    wait_kernel_idle(page)
    return notebook


def current_panel(page: Page) -> Locator:
    """The notebook panel in front."""
    return page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")


def wait_kernel_idle(page: Page, timeout: float = LOAD) -> None:
    """Wait until the status bar says the active notebook's kernel is idle."""
    expect(page.locator("#jp-main-statusbar")).to_contain_text(
        re.compile(r"\|\s*Idle"), timeout=timeout)


def menu(page: Page, label: str, command: str) -> None:
    """Click ``label`` in the menu bar, then the item that runs ``command``."""
    page.locator("#jp-menu-panel .lm-MenuBar-itemLabel", has_text=re.compile(
        rf"^{re.escape(label)}$")).click()
    page.locator(f'.lm-Menu li[data-command="{command}"]').first.click()


def code_prompts_done(page: Page, timeout: float = RUN) -> None:
    """Wait until every code cell of the visible notebook shows an execution count."""
    page.wait_for_function(
        """() => {
            const nb = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
            const p = [...nb.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')];
            return p.length > 0 && p.every(e => /\\[\\d+\\]/.test(e.textContent));
        }""", timeout=timeout)


def run_all(page: Page) -> None:
    """Run > Run All Cells; wait for every code cell to have run and the kernel to idle."""
    menu(page, "Run", "runmenu:run-all")
    code_prompts_done(page)
    wait_kernel_idle(page)


def cell_by_text(notebook: Locator, text: str) -> Locator:
    """The first cell whose input contains ``text``."""
    return notebook.locator(".jp-Cell").filter(
        has=notebook.page.locator(".jp-InputArea", has_text=text)).first


def set_source(cell: Locator, source: str) -> None:
    """Replace a code cell's source by typing into its CodeMirror editor."""
    page = cell.page
    editor = cell.locator(".cm-content")
    editor.click()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.insert_text(source)
    expect(editor).to_contain_text(source.strip().splitlines()[-1].strip())


def run_cell(cell: Locator, timeout: float = RUN) -> None:
    """Run one cell (Ctrl+Enter in its editor) and wait for its new execution count."""
    prompt = cell.locator(".jp-InputArea-prompt")
    before = prompt.inner_text()
    cell.locator(".cm-content").click()
    cell.page.keyboard.press("ControlOrMeta+Enter")
    expect(prompt).not_to_have_text(before, timeout=timeout)
    expect(prompt).to_have_text(_PROMPT_DONE, timeout=timeout)


def output_text(cell: Locator) -> str:
    """The text of a cell's output area ('' when it has none)."""
    out = cell.locator(".jp-OutputArea")
    return out.inner_text() if out.count() else ""


def save(page: Page) -> None:
    """Save the active notebook and wait until its tab is no longer marked dirty."""
    page.keyboard.press("ControlOrMeta+s")
    expect(page.locator(".jp-mod-current.jp-mod-dirty")).to_have_count(0, timeout=LOAD)


# ------------------------------------------------------------------ nbgrader's Assignment List

def open_assignment_list(page: Page) -> None:
    """Nbgrader > Assignment List; wait for its three lists to load."""
    menu(page, "Nbgrader", "nbgrader:open-assignment-list")
    tab = page.locator("#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current")
    expect(tab).to_contain_text("Assignments", timeout=LOAD)
    for name in ("released", "fetched", "submitted"):
        expect(page.locator(f"#{name}_assignments_list_loading")).to_be_hidden(timeout=LOAD)


def assignment_rows(page: Page, kind: str) -> Locator:
    """Rows of the ``released``, ``fetched`` or ``submitted`` list."""
    return page.locator(f"#{kind}_assignments_list > .list_item")


def fetch_assignment(page: Page, assignment: str) -> None:
    """Press Fetch on a released assignment; wait until it is listed as fetched."""
    released = assignment_rows(page, "released").filter(has_text=assignment)
    expect(released).to_have_count(1, timeout=LOAD)
    released.locator(".item_status button").click()
    expect(assignment_rows(page, "fetched").filter(has_text=assignment)).to_have_count(
        1, timeout=LOAD)


def submit_assignment(page: Page, assignment: str) -> Locator:
    """Press Submit on a fetched assignment; wait for, and return, its submitted row."""
    submitted = assignment_rows(page, "submitted").filter(has_text=assignment)
    before = submitted.locator(".nested_list_item").count() if submitted.count() else 0
    row = assignment_rows(page, "fetched").filter(has_text=assignment)
    row.locator('.item_status button:text("Submit")').click()
    expect(submitted).to_have_count(1, timeout=LOAD)
    expect(submitted.locator(".nested_list_item")).to_have_count(before + 1, timeout=LOAD)
    return submitted
