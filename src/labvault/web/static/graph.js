/* labvault dashboard: pan and zoom for graph pictures, and in-place expansion of lineage nodes.
 * The pictures are laid out on the server; this script only moves the SVG viewBox. Without it the
 * picture is drawn at full size in a scrolling box and every node is a plain link. */
(function () {
  "use strict";

  /* The view when a node was clicked, and where that node was: after the swap the new picture
   * opens at the same zoom with the clicked node at the same place on screen. */
  var kept = null;

  function nodeAt(svg, id) {
    var g = id && svg.querySelector('.node[data-id="' + id + '"]');
    var m = g && /translate\(([-\d.]+),([-\d.]+)\)/.exec(g.getAttribute("transform") || "");
    return m ? { x: +m[1], y: +m[2] } : null;
  }

  function setup(box) {
    var svg = box.querySelector("svg.graph");
    if (!svg || svg.dataset.ready) { return; }
    svg.dataset.ready = "1";
    var vb = svg.viewBox.baseVal;
    var full = { w: vb.width, h: vb.height };
    box.classList.add("pannable");
    svg.setAttribute("width", "100%");
    svg.setAttribute("height", "100%");
    var rect = box.getBoundingClientRect();
    var view = { x: 0, y: 0, w: Math.max(rect.width, 1), h: Math.max(rect.height, 1) };
    var root = svg.querySelector(".node.root");
    var fitScale = Math.max(full.w / view.w, full.h / view.h);
    if (fitScale <= 1) {  /* the whole picture fits: the box shrinks to it */
      box.style.height = Math.max(full.h + 4, 80) + "px";
      view = { x: 0, y: 0, w: view.w, h: full.h + 4 };
    } else if (fitScale <= 1.6) {  /* small enough to read whole (labels at 60 % or more) */
      view = { x: 0, y: 0, w: view.w * Math.max(fitScale, 1), h: view.h * Math.max(fitScale, 1) };
    } else if (root) {  /* start at 1:1 centred on the start node: readable at any size */
      var at = nodeAt(svg, root.getAttribute("data-id")), size = root.getBBox();
      if (at) { view.x = at.x + size.width / 2 - view.w / 2; view.y = at.y + size.height / 2 - view.h / 2; }
    }
    if (kept && kept.box === box.id) {
      var was = kept, now = nodeAt(svg, was.id);
      kept = null;
      if (box.style.height !== was.height) { box.style.height = was.height; }
      view = { x: was.view.x, y: was.view.y, w: was.view.w, h: was.view.h };
      if (now && was.at) { view.x += now.x - was.at.x; view.y += now.y - was.at.y; }
    }
    function apply() { svg.setAttribute("viewBox", view.x + " " + view.y + " " + view.w + " " + view.h); }
    apply();

    var drag = null, moved = false;
    svg.addEventListener("pointerdown", function (e) {
      drag = { x: e.clientX, y: e.clientY, vx: view.x, vy: view.y };
      moved = false;
    });
    svg.addEventListener("pointermove", function (e) {
      if (!drag) { return; }
      var s = view.w / svg.getBoundingClientRect().width;
      var dx = e.clientX - drag.x, dy = e.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 4) { moved = true; }
      view.x = drag.vx - dx * s;
      view.y = drag.vy - dy * s;
      apply();
    });
    window.addEventListener("pointerup", function () { drag = null; });
    svg.addEventListener("wheel", function (e) {
      e.preventDefault();
      var r = svg.getBoundingClientRect();
      var fx = (e.clientX - r.left) / r.width, fy = (e.clientY - r.top) / r.height;
      var k = e.deltaY > 0 ? 1.2 : 1 / 1.2;
      var w = Math.min(Math.max(view.w * k, 50), full.w * 4 + 200);
      var h = view.h * (w / view.w);
      view.x += (view.w - w) * fx;
      view.y += (view.h - h) * fy;
      view.w = w;
      view.h = h;
      apply();
    }, { passive: false });
    var fit = document.querySelector('button.fit[data-for="' + box.id + '"]');
    if (fit) {
      fit.hidden = false;
      fit.addEventListener("click", function () {
        var r = svg.getBoundingClientRect();
        var s = Math.max(full.w / r.width, full.h / r.height);
        view = { x: 0, y: 0, w: r.width * s, h: r.height * s };
        apply();
      });
    }
    svg.addEventListener("click", function (e) {
      var a = e.target.closest ? e.target.closest("a") : null;
      if (moved) { e.preventDefault(); moved = false; return; }
      if (!a || !box.hasAttribute("data-swap") || !window.htmx) { return; }
      e.preventDefault();
      var url = a.getAttribute("href");
      var wrap = box.parentNode;
      var g = e.target.closest(".node[data-id]"), id = g ? g.getAttribute("data-id") : null;
      kept = { box: box.id, id: id, at: nodeAt(svg, id), height: box.style.height,
               view: { x: view.x, y: view.y, w: view.w, h: view.h } };
      window.htmx.ajax("GET", url, { target: "#" + wrap.id, swap: "outerHTML", select: "#" + wrap.id })
        .then(function () { history.pushState({}, "", url); });
    });
  }

  function setupAll() {
    var boxes = document.querySelectorAll(".graph-box");
    for (var i = 0; i < boxes.length; i++) { setup(boxes[i]); }
  }
  document.addEventListener("DOMContentLoaded", setupAll);
  document.addEventListener("htmx:afterSettle", setupAll);
  window.addEventListener("popstate", function () { if (document.querySelector(".graph-box[data-swap]")) { location.reload(); } });
}());
