// Loads the citytwin page in headless Chromium (playwright-core), waits until the city has
// rendered and live sensor readings arrived, screenshots the page and writes what it saw as JSON.
// Then, with MARKERS_URL set (the same view with the sensor layers shown): screenshots the
// markers (OUT-markers.png), turns the HUD on (F1), clicks the sensor the page reports nearest
// the view's centre and records whether its panel opened. With CCTV_URL, BIM_URL and DRILL_URL, a camera's
// feed, a BIM model and a drill played to its time, each in its own page.
//   node browser.mjs URL OUT.png OUT.json [TIMEOUT_S]
// Env: CHROMIUM (default /usr/lib/chromium/chromium), PLAYWRIGHT_CORE (the module's path).
import { createRequire } from "node:module";
import { writeFileSync } from "node:fs";

const [url, png, json, timeoutS = "480"] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const { chromium } = require(process.env.PLAYWRIGHT_CORE || "playwright-core");

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/lib/chromium/chromium",
  args: ["--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--ignore-gpu-blocklist",
         "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync"],
});
const out = { console: [], pageErrors: [], requests: [], failedRequests: [], sockets: [], dataset: {}, timedOut: false };
try {
  const page = await browser.newPage({ viewport: { width: 320, height: 240 }, deviceScaleFactor: 1 });
  page.on("console", (m) => out.console.push({ type: m.type(), text: m.text() }));
  page.on("pageerror", (e) => out.pageErrors.push(String(e && e.message || e)));
  page.on("requestfinished", async (r) => {
    const res = await r.response();
    out.requests.push({ url: r.url(), status: res ? res.status() : 0 });
  });
  page.on("requestfailed", (r) => out.failedRequests.push({ url: r.url(), error: r.failure()?.errorText }));
  page.on("websocket", (ws) => {
    const s = { url: ws.url(), received: 0, sent: 0 };
    out.sockets.push(s);
    ws.on("framereceived", () => s.received++);
    ws.on("framesent", () => s.sent++);
  });
  const started = Date.now();
  await page.goto(url, { waitUntil: "load" });
  try {
    await page.waitForFunction(() => {
      const d = document.body.dataset;
      return d.pageError || d.error
        || (Number(d.tilesShown) > 0 && d.settled === "true" && Number(d.liveReadings) > 0);
    }, null, { timeout: Number(timeoutS) * 1000, polling: 500 });
    // Tiles shown in the last frame need a frame or two more to reach the screen.
    await page.waitForTimeout(3000);
  } catch (e) {
    out.timedOut = true;
  }
  out.elapsedMs = Date.now() - started;
  out.dataset = await page.evaluate(() => ({ ...document.body.dataset }));
  await page.screenshot({ path: png });
  // The canvas follows the window.
  // Waits for the next frames to resize it (up to 30 s: a busy or unoptimised build draws slowly).
  await page.setViewportSize({ width: 400, height: 300 });
  await page.waitForFunction(() => {
    const c = document.getElementById("citytwin");
    return c.width === 400 && c.height === 300;
  }, null, { timeout: 30000, polling: 250 }).catch(() => {});
  out.resized = await page.evaluate(() => {
    const c = document.getElementById("citytwin");
    return { width: c.width, height: c.height };
  });
  // A browser without WebGL2 gets a message, not a blank page.
  const bare = await browser.newPage();
  await bare.addInitScript(() => {
    const real = HTMLCanvasElement.prototype.getContext;
    HTMLCanvasElement.prototype.getContext = function (kind, ...rest) {
      return kind === "webgl2" ? null : real.call(this, kind, ...rest);
    };
  });
  await bare.goto(url, { waitUntil: "load" });
  await bare.waitForFunction(() => document.body.dataset.pageError, null, { timeout: 30000 }).catch(() => {});
  out.withoutWebgl2 = await bare.evaluate(() => ({
    pageError: document.body.dataset.pageError || null,
    shown: getComputedStyle(document.getElementById("overlay")).opacity,
  }));
  await page.close();
  await bare.close();
  if (process.env.MARKERS_URL) out.markers = await markers(process.env.MARKERS_URL);
  if (process.env.CCTV_URL) out.cctv = await cctv(process.env.CCTV_URL);
  if (process.env.BIM_URL) out.bim = await bim(process.env.BIM_URL);
  if (process.env.DRILL_URL) out.drill = await drill(process.env.DRILL_URL);
} finally {
  await browser.close();
}

/// Opens `pageUrl` in a `width`×`height` page that records its console, and waits until `ready`
/// (in the page) holds; `result.timedOut` says if it never did.
async function open(pageUrl, width, height, ready) {
  const result = { console: [], pageErrors: [] };
  const page = await browser.newPage({ viewport: { width, height }, deviceScaleFactor: 1 });
  page.on("console", (m) => result.console.push({ type: m.type(), text: m.text() }));
  page.on("pageerror", (e) => result.pageErrors.push(String(e && e.message || e)));
  await page.goto(pageUrl, { waitUntil: "load", timeout: 180000 });
  result.timedOut = await page.waitForFunction(ready, null, { timeout: Number(timeoutS) * 1000, polling: 500 })
    .then(() => false, () => true);
  return { page, result };
}

/// A camera chosen at start (operators): its feed streams into the panel and onto the scene.
async function cctv(cctvUrl) {
  const { page, result } = await open(cctvUrl, 800, 500, () => {
    const d = document.body.dataset;
    return d.cctvError || (Number(d.cctvFrames) >= 3 && Number(d.feedOverlays) > 0 && d.settled === "true");
  });
  await page.waitForTimeout(3000);
  await page.screenshot({ path: png.replace(/\.png$/, "-cctv.png") });
  result.dataset = await page.evaluate(() => ({ ...document.body.dataset }));
  await page.close();
  return result;
}

/// The demo's BIM model with tools set at start: its tree comes, its tiles show, the page's
/// screenshot shows what the tools did.
async function bim(bimUrl) {
  const { page, result } = await open(bimUrl, 320, 240, () => {
    const d = document.body.dataset;
    return Number(d.bimNodes) > 0 && d.bimShown === "true" && d.settled === "true";
  });
  await page.waitForTimeout(3000);
  await page.screenshot({ path: png.replace(/\.png$/, "-bim.png") });
  result.dataset = await page.evaluate(() => ({ ...document.body.dataset }));
  await page.close();
  return result;
}

/// A drill opened at start and played to its time: what the simulation cost in this browser, and its picture.
async function drill(drillUrl) {
  const { page, result } = await open(drillUrl, 480, 270, () => {
    const d = document.body.dataset;
    return d.drillError || (d.drillCaughtUp === "true" && d.settled === "true");
  });
  await page.waitForTimeout(3000);
  await page.screenshot({ path: png.replace(/\.png$/, "-drill.png") });
  result.dataset = await page.evaluate(() => ({ ...document.body.dataset }));
  await page.close();
  return result;
}

/// The markers' page: its screenshot, and a click on a marker.
async function markers(markersUrl) {
  const { page, result } = await open(markersUrl, 320, 240, () => {
    const d = document.body.dataset;
    return d.settled === "true" && Number(d.liveReadings) > 0 && Number(d.sensorsPlaced) > 0 && d.nearSensorPx;
  });
  await page.waitForTimeout(3000);
  await page.screenshot({ path: png.replace(/\.png$/, "-markers.png") });
  // The HUD on, in a larger window, then a click on the sensor nearest the centre.
  await page.setViewportSize({ width: 960, height: 600 });
  await page.keyboard.press("F1");
  // Twenty frames on, so the reported position is the new window's.
  const frames = await page.evaluate(() => Number(document.body.dataset.frames));
  await page.waitForFunction((f) => Number(document.body.dataset.frames) >= f + 20, frames,
    { timeout: 120000, polling: 250 }).catch(() => {});
  result.panelBefore = await page.evaluate(() => document.body.dataset.sensorPanel || "");
  const at = (await page.evaluate(() => document.body.dataset.nearSensorPx || "")).split(",").map(Number);
  result.clicked = at;
  if (at.length === 3) {
    await page.mouse.click(at[0], at[1]);
    result.panel = await page.waitForFunction(() => document.body.dataset.sensorPanel || null, null,
      { timeout: 60000, polling: 250 }).then((h) => h.jsonValue(), () => null);
    await page.waitForTimeout(1500);
    await page.screenshot({ path: png.replace(/\.png$/, "-panel.png") });
  }
  result.dataset = await page.evaluate(() => ({ ...document.body.dataset }));
  await page.close();
  return result;
}
writeFileSync(json, JSON.stringify(out, null, 1));
