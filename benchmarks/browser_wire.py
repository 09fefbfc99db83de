"""What the browser benchmarks inject before the app loads (``page.add_init_script``): the time
each message from the server arrives (``window.__lastMessage``), the time the browser has painted
after it (two animation frames later: ``window.__paintedAfter``), and the time of the last click
(``window.__click``). A click or a page settles at the first paint after the last message it
caused; Streamlit's own ``data-test-script-state`` is not enough: a fast rerun goes running ->
notRunning inside one React render and the attribute never changes.

Used by bench_score_click.py and national_pages.py.
"""

WIRE_JS = """(() => {
    const Native = window.WebSocket;
    window.__lastMessage = 0; window.__paintedAfter = 0; window.__click = 0;
    function Watched(...args) {
        const ws = new Native(...args);
        ws.addEventListener('message', () => {
            const at = performance.now();
            window.__lastMessage = at;
            requestAnimationFrame(() => requestAnimationFrame(() => {
                if (window.__lastMessage === at) window.__paintedAfter = performance.now();
            }));
        });
        return ws;
    }
    Watched.prototype = Native.prototype;
    Object.assign(Watched, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
    window.WebSocket = Watched;
    document.addEventListener('click', () => { window.__click = performance.now(); }, true);
})();"""

QUIET_MS = 400
"""No message for this long after the last one (and the app not running): settled."""
