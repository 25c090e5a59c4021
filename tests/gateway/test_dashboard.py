"""The dashboard in a real browser (Debian's chromium, driven by Playwright) over a real index of the demo:
the charts render with data, prices show every digit, an unproven epoch is a gap with its reason (never 0 %),
the chart controls never cover a title, and a 390-px phone screen needs no sideways scrolling; screenshots at
desktop and phone width are kept in build/test-artifacts/."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy.orm import Session, sessionmaker
from web3 import Web3

from wellhead.chain.client import Protocol
from wellhead.chain.deployment import Deployment
from wellhead.devkit.anvil import free_port
from wellhead.devkit.scenario import Actors, Demo
from wellhead.gateway.app import create_app
from wellhead.gateway.index.indexer import Indexer
from wellhead.gateway.services import Services

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "build" / "test-artifacts"
CHARTS = ("chart-uptime", "chart-energy", "chart-revenue-kwh", "chart-nav", "chart-use-kwh", "chart-green")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_dashboard_renders_charts_with_data(
    w3: Web3, protocol: Protocol, actors: Actors, deployment: Deployment, sessions: sessionmaker[Session]
) -> None:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "make setup installs Debian's chromium"
    result = Demo(w3, protocol, actors).run()
    Indexer(w3, deployment, sessions, confirmations=0).sync()
    port = free_port()
    app = create_app(Services.build(sessions, w3, deployment, domain=f"127.0.0.1:{port}"))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "dashboard.png"
    shot.unlink(missing_ok=True)
    errors: list[str] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=str(CHROMIUM),
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
            )
            page = browser.new_page(viewport={"width": 1400, "height": 1800})
            page.on("pageerror", lambda e: errors.append(str(e)))
            # the gateway's Content-Security-Policy holds: nothing the dashboard needs is refused by it
            page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
            page.goto(f"http://127.0.0.1:{port}/")
            page.wait_for_selector("body[data-ready=true]", timeout=30_000)
            assert page.locator("#assets tbody tr").count() == 1
            assert page.locator("#assets tbody tr td").nth(4).inner_text().endswith("%")
            for chart in CHARTS:
                assert int(page.get_attribute(f"#{chart}", "data-points") or 0) > 0, chart
                # plotly drew the traces: an SVG with a line or bars per trace
                assert page.locator(f"#{chart} .main-svg .trace").count() >= 1, chart
            epochs = httpx.get(f"http://127.0.0.1:{port}/api/v1/assets/{result.asset_id}/epochs").json()["items"]
            proven = [e for e in epochs if e["uptime_bps"] is not None and e["proven"] is not False]
            traces = page.locator("#chart-uptime .scatterlayer .trace")
            assert traces.nth(0).locator(".point").count() == len(proven) >= 4
            unproven = [e for e in epochs if e not in proven]
            assert unproven, "the demo has an epoch without a proven report"
            assert traces.nth(1).locator(".point").count() == len(unproven), "each gap marked, with its reason"
            for chart in CHARTS:  # the controls (shown on hover) never cover the title
                page.hover(f"#{chart} .main-svg")
                title = page.locator(f"#{chart} .gtitle").bounding_box()
                bar = page.locator(f"#{chart} .modebar").bounding_box()
                assert title is not None and bar is not None, chart
                assert title["x"] + title["width"] <= bar["x"] or title["y"] + title["height"] <= bar["y"], chart
            listed = httpx.get(f"http://127.0.0.1:{port}/api/v1/assets").json()["items"][0]
            assert page.locator("#assets tbody tr td").nth(6).inner_text() == listed["price_per_share"]["decimal"]
            feed = httpx.get(f"http://127.0.0.1:{port}/api/v1/credit/markets").json()["capacity"][0]["feed"]
            lending = feed["lending_price"]["decimal"]
            assert lending != f"{float(lending):.2f}", lending  # a price two decimals would round away
            cells = page.locator("#credit-markets tbody tr td").all_inner_texts()
            assert cells[4] == lending, (cells, lending)  # shown with every digit, not rounded to two
            assert page.locator("#leases tbody tr").count() == len(result.lessees)
            carbon_free = page.locator("#leases tbody tr td:nth-child(10)").all_inner_texts()
            assert carbon_free and all(float(v) > 0 for v in carbon_free), carbon_free
            assert page.locator("#grid-events tbody tr").count() == len(result.grid_events) == 1
            assert "1,250" in page.locator("#grid-events tbody tr td").nth(4).inner_text()
            assert "certificates retired" in page.locator("#energy-summary").inner_text()
            market = page.locator("#credit-markets tbody tr td").all_inner_texts()
            assert market[0] == f"asset #{result.asset_id} shares" and "2 of 2 windows" in market[6], market
            assert "BTC market:" in page.locator("#btc-market").inner_text()
            kinds = page.locator("#liquidations tbody tr td:nth-child(1)").all_inner_texts()
            assert kinds == [f"asset #{result.asset_id}", "BTC"], kinds
            page.fill("#investor", actors.operator.address)
            page.click("#positions-form button")
            page.wait_for_selector("#btc-position:not(:empty)")  # a selector: the page's CSP forbids eval
            assert "BTC pledged" in page.locator("#btc-position").inner_text()
            page.fill("#investor", actors.investor_a.address)
            page.click("#positions-form button")
            page.wait_for_selector("#credit tbody tr")
            assert page.locator("#positions tbody tr").count() >= 1
            assert page.locator("#credit tbody tr").count() == 1, "investor A borrowed against its shares"
            page.screenshot(path=str(shot), full_page=True)
            phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
            phone.on("pageerror", lambda e: errors.append(str(e)))
            phone.goto(f"http://127.0.0.1:{port}/")
            phone.wait_for_selector("body[data-ready=true]", timeout=30_000)
            assert phone.evaluate("document.documentElement.scrollWidth") <= 390, "no sideways scrolling"
            for chart in CHARTS:
                box = phone.locator(f"#{chart}").bounding_box()
                assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, chart
            phone.screenshot(path=str(ARTIFACTS / "dashboard-phone.png"), full_page=True)
            browser.close()
    finally:
        server.should_exit = True
    assert errors == []
    assert shot.stat().st_size > 20_000
