// Testing check-off that survives a testing site with no signal: every tap is queued on the phone
// with a client-generated id, shown at once, and sent when the connection allows. The id travels as
// the Idempotency-Key, so a tap sent twice (a lost reply, a reconnect) is recorded once.
(function () {
  var script = document.currentScript, url = script.dataset.url;
  var KEY = "louzu-checkoff-queue:" + url;
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  function load() { try { return JSON.parse(localStorage.getItem(KEY) || "[]"); } catch (e) { return []; } }
  function save(q) { localStorage.setItem(KEY, JSON.stringify(q)); show(q); }
  function show(q) {
    var n = document.getElementById("pending-count"); if (n) n.textContent = q.length;
    q.forEach(function (item) { var b = document.querySelector('[data-resident="' + item.resident_id + '"]'); if (b) b.classList.add("done"); });
  }
  function newId() { return (crypto.randomUUID ? crypto.randomUUID() : Date.now() + "-" + Math.random().toString(16).slice(2)); }
  var sending = false;
  async function flush() {
    if (sending) return; sending = true;
    try {
      var q = load();
      while (q.length) {
        var item = q[0], res;
        try {
          res = await fetch(url, {method: "POST", credentials: "same-origin",
            headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf, "Idempotency-Key": item.client_id},
            body: JSON.stringify(item.code ? {code: item.code, tube_id: item.tube_id}
                                : {resident_id: item.resident_id, household_id: item.household_id, tube_id: item.tube_id, method: "roster"})});
        } catch (e) { break; }               // offline: keep the queue, try again later
        if (res.status >= 500 || res.status === 0) break;
        q.shift(); save(q);                   // sent (or refused with a reason shown below): drop it
        if (!res.ok) { var p = await res.json(); alert(p.message_zh + "\n" + p.message_en); }
      }
    } finally { sending = false; }
  }
  document.querySelectorAll("button.tap").forEach(function (b) {
    b.addEventListener("click", function () {
      if (b.classList.contains("done")) return;
      var q = load();
      q.push({client_id: newId(), resident_id: b.dataset.resident, household_id: b.dataset.household,
              tube_id: document.getElementById("tube").value || "T001"});
      b.classList.add("done"); save(q); flush();
    });
  });
  var code = document.getElementById("code");
  if (code) code.addEventListener("keydown", function (e) {   // a barcode scanner types the code and Enter
    if (e.key !== "Enter" || !code.value.trim()) return;
    e.preventDefault();
    var q = load();
    q.push({client_id: newId(), code: code.value.trim(), tube_id: document.getElementById("tube").value || "T001"});
    code.value = ""; save(q); flush();
  });
  window.addEventListener("online", flush);
  setInterval(flush, 5000);
  show(load()); flush();
})();
