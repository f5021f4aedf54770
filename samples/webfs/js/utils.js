// Small helpers for the sample BMC web UI.
function $(id) { return document.getElementById(id); }
function init() {
  var req = new XMLHttpRequest();
  req.open("GET", "/cgi/ipmi.cgi?op=fw_version", true);
  req.onload = function () { if (req.status === 200) $("fwver").textContent = req.responseText; };
  req.send();
}
function pad2(n) { return (n < 10 ? "0" : "") + n; }
function fmtDate(d) {
  return d.getUTCFullYear() + "-" + pad2(d.getUTCMonth() + 1) + "-" + pad2(d.getUTCDate()) +
         " " + pad2(d.getUTCHours()) + ":" + pad2(d.getUTCMinutes());
}
