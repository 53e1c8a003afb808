// On a phone the filters fold away until asked for, unless a filter is on: the map and the
// list come first. (Without this script they simply stay open.)
(function () {
  "use strict";
  var box = document.getElementById("filters");
  if (box && window.innerWidth <= 700 && !window.location.search) { box.open = false; }
})();
