// A player in an iframe tells its page how tall it is; the iframe follows (no scrollbar).
window.addEventListener("message", function (e) {
  var h = e.data && e.data.ndlPlayerHeight;
  if (!h) return;
  document.querySelectorAll("iframe.ndl-embed").forEach(function (f) {
    if (f.contentWindow === e.source) { f.style.aspectRatio = "auto"; f.style.height = h + "px"; }
  });
});
