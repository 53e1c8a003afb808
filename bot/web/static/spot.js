// One ticket's place on a small map (the page's link to Amap works without it).
(function () {
  "use strict";
  var el = document.getElementById("spot");
  if (!el || !window.L) { return; }
  var at = [parseFloat(el.dataset.lat), parseFloat(el.dataset.lon)];
  var map = L.map(el, { scrollWheelZoom: false }).setView(at, 16);
  L.tileLayer(el.dataset.tiles, {
    subdomains: el.dataset.subdomains || "abc", maxZoom: 18, attribution: el.dataset.attribution
  }).addTo(map);
  var icon = L.divIcon({ className: "pin st-" + el.dataset.state, iconSize: [18, 18] });
  L.marker(at, { icon: icon }).addTo(map);
})();
