/* twin viewer: renders the Dash payload with the local deck.gl bundle (no CDN, no basemap).
 *
 * Payload layers arrive as base64 typed arrays and go to deck.gl as binary attributes.
 * Two synchronised views are drawn in side-by-side mode; one otherwise.
 */
(function () {
  "use strict";
  const decks = {};
  const built = {};  /* elId -> the scene's layers, kept so overlays don't rebuild them */
  let viewState = null;
  let lastBase = null;
  let drawPoly = [];    /* vertices [lon, lat] of the area being drawn (what-if editor) */
  let highlight = [];   /* indices of road links picked for closure */

  function setProps(id, props) {
    const dc = window.dash_clientside;
    if (dc && dc.set_props) dc.set_props(id, props);
  }

  /* What-if editor tools: a click closes a street (road index) or adds an area vertex.
   * Native DOM clicks are used (a drag of more than 5 px is not a click), so the tools do
   * not depend on the gesture recogniser of the map controller. */
  function editorClick(elId, key, x, y) {
    const tool = window.twinTool || "none";
    const d = decks[elId];
    if (!d || tool === "none") return;
    if (tool === "close") {
      const hit = d.pickObject({x: x, y: y, radius: 8, layerIds: ["roads-" + key]});
      if (hit && hit.index >= 0) {
        setProps("wi-click", {data: {index: hit.index, t: Date.now()}});
        document.body.dataset.picked = String(hit.index);
      }
    } else if (tool === "draw") {
      const vp = d.getViewports()[0];
      const c = vp && vp.unproject([x, y]);
      if (!c) return;
      drawPoly = drawPoly.concat([[c[0], c[1]]]);
      setProps("wi-poly", {data: drawPoly});
      redrawAll();
    }
  }

  function listen(el, elId, key) {
    if (el._twinListening) return;
    el._twinListening = true;
    let down = null;
    el.addEventListener("pointerdown", function (e) { down = [e.clientX, e.clientY]; });
    el.addEventListener("click", function (e) {
      if (down && Math.hypot(e.clientX - down[0], e.clientY - down[1]) > 5) return;
      const r = el.getBoundingClientRect();
      editorClick(elId, el._twinKey, e.clientX - r.left, e.clientY - r.top);
    });
  }

  function overlayLayers(key) {
    const out = [];
    if (highlight.length && lastBase && lastBase.roads) {
      const r = lastBase.roads;
      if (!r._pos) {
        r._pos = decode(r.positions, Float32Array);
        r._starts = decode(r.startIndices, Uint32Array);
      }
      const n = r._pos.length / 2;
      const paths = highlight.filter(function (i) { return i < r.length; }).map(function (i) {
        const a = r._starts[i], b = i + 1 < r.length ? r._starts[i + 1] : n;
        const p = [];
        for (let k = a; k < b; k++) p.push([r._pos[2 * k], r._pos[2 * k + 1]]);
        return p;
      });
      out.push(new deck.PathLayer({id: "picked-" + key, data: paths, getPath: function (d) { return d; },
        getColor: [230, 20, 60, 255], getWidth: 9, widthUnits: "meters", widthMinPixels: 5,
        parameters: {depthTest: false}}));
    }
    if (drawPoly.length) {
      const ring = drawPoly.length > 2 ? [drawPoly.concat([drawPoly[0]])] : [];
      out.push(new deck.PolygonLayer({id: "area-" + key, data: ring, getPolygon: function (d) { return d; },
        getFillColor: [30, 160, 70, 90], getLineColor: [20, 110, 50, 255], lineWidthMinPixels: 2,
        parameters: {depthTest: false}}));
      out.push(new deck.ScatterplotLayer({id: "vertices-" + key, data: drawPoly,
        getPosition: function (d) { return d; }, getFillColor: [20, 110, 50, 255],
        getRadius: 5, radiusUnits: "pixels", parameters: {depthTest: false}}));
    }
    return out;
  }

  function redraw(elId) {
    const d = decks[elId];
    if (!d || !built[elId]) return;
    d.setProps({layers: built[elId].layers.concat(overlayLayers(built[elId].key))});
  }

  function redrawAll() { Object.keys(decks).forEach(redraw); }

  function decode(b64, Type) {
    const bin = atob(b64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return new Type(bytes.buffer);
  }

  function fmt(v) {
    if (!isFinite(v)) return "–";
    const a = Math.abs(v);
    return a >= 100 ? v.toFixed(0) : a >= 1 ? v.toFixed(1) : v.toFixed(3);
  }

  function buildings(p, key) {
    const positions = decode(p.positions, Float32Array);
    return new deck.SolidPolygonLayer({
      id: "buildings-" + key,
      data: {
        length: p.length,
        startIndices: decode(p.startIndices, Uint32Array),
        attributes: {
          getPolygon: {value: positions, size: 2},
          getElevation: {value: decode(p.elevation, Float32Array), size: 1},
          getFillColor: {value: decode(p.colors, Uint8Array), size: 4, normalized: true},
        },
      },
      _normalize: false,
      extruded: true,
      pickable: true,
      material: {ambient: 0.45, diffuse: 0.6, shininess: 24},
    });
  }

  function paths(p, id) {
    return new deck.PathLayer({
      id: id,
      data: {
        length: p.length,
        startIndices: decode(p.startIndices, Uint32Array),
        attributes: {
          getPath: {value: decode(p.positions, Float32Array), size: 2},
          getColor: {value: decode(p.colors, Uint8Array), size: 4, normalized: true},
        },
      },
      _pathType: "open",
      getWidth: p.width || 3,
      widthUnits: "meters",
      widthMinPixels: 1.5,
      pickable: true,
    });
  }

  function points(p, id) {
    return new deck.ScatterplotLayer({
      id: id,
      data: {
        length: p.length,
        attributes: {
          getPosition: {value: decode(p.positions, Float32Array), size: 2},
          getFillColor: {value: decode(p.colors, Uint8Array), size: 4, normalized: true},
        },
      },
      getRadius: p.radius || 4,
      radiusUnits: "meters",
      radiusMinPixels: 2,
      pickable: true,
    });
  }

  function image(p, id) {
    const rgba = decode(p.rgba, Uint8ClampedArray);
    const img = new ImageData(rgba, p.width, p.height);
    return new deck.BitmapLayer({id: id, image: img, bounds: p.bounds, pickable: false,
                                 textureParameters: {minFilter: "nearest", magFilter: "nearest"}});
  }

  function layersFor(base, side, key) {
    const out = [];
    const on = base.visible || {};
    if (side && side.grid && on.results) out.push(image(side.grid, "grid-" + key));
    if (side && side.paths && on.results) out.push(paths(side.paths, "resultpaths-" + key));
    if (base.roads && on.roads) out.push(paths(base.roads, "roads-" + key));
    if (base.buildings && on.buildings) out.push(buildings(base.buildings, key));
    if (base.lamps && on.lamps) out.push(points(base.lamps, "lamps-" + key));
    if (side && side.points && on.results) out.push(points(side.points, "results-" + key));
    return out;
  }

  function tooltip(base, side) {
    return function (info) {
      if (info.index < 0 || !info.layer) return null;
      const id = info.layer.id;
      let p = null;
      if (id.startsWith("buildings")) p = base.buildings;
      else if (id.startsWith("roads")) p = base.roads;
      else if (id.startsWith("lamps")) p = base.lamps;
      else if (id.startsWith("resultpaths")) p = side && side.paths;
      else if (id.startsWith("results")) p = side && side.points;
      if (!p) return null;
      if (!p._value) p._value = decode(p.value, Float32Array);
      const v = p._value[info.index];
      const lg = p.legend, at = lg.label.split("@");
      const lines = [at[0] + ": " + fmt(v) + (lg.unit ? " " + lg.unit : "")];
      if (at.length > 1) lines.push("@ " + at[1]);
      if (isFinite(lg.min) && isFinite(lg.max) && lg.max > lg.min) {
        lines.push("[" + fmt(lg.min) + " … " + fmt(lg.max) + "]");
      }
      return {text: lines.join("\n")};
    };
  }

  function render(elId, base, side, key) {
    const el = document.getElementById(elId);
    if (!el) return;
    el._twinKey = key;
    listen(el, elId, key);
    lastBase = base;
    window.twinBase = base;
    built[elId] = {layers: layersFor(base, side, key), key: key};
    const props = {
      layers: built[elId].layers.concat(overlayLayers(key)),
      getTooltip: tooltip(base, side),
    };
    if (!decks[elId] || decks[elId].canvas && !el.contains(decks[elId].canvas)) {
      if (!viewState) viewState = base.view;
      decks[elId] = new deck.Deck({
        parent: el,
        initialViewState: viewState,
        controller: true,
        useDevicePixels: true,
        glOptions: {preserveDrawingBuffer: true},
        parameters: {clearColor: [0.94, 0.95, 0.96, 1]},
        onViewStateChange: function (e) {
          viewState = e.viewState;
          Object.keys(decks).forEach(function (k) {
            if (k !== elId && decks[k]) decks[k].setProps({viewState: viewState});
          });
          decks[elId].setProps({viewState: viewState});
        },
        ...props,
      });
      window.twinDecks = decks;
    } else {
      decks[elId].setProps(props);
    }
  }

  function clear(elId) {
    if (decks[elId]) {
      decks[elId].finalize();
      delete decks[elId];
      delete built[elId];
    }
  }

  /* One PNG of what is on screen: every map canvas side by side. */
  function snapshot() {
    const canvases = Array.from(document.querySelectorAll(".map canvas"))
      .filter(function (c) { return c.offsetParent !== null; });
    if (!canvases.length) return "";
    const w = canvases.reduce(function (s, c) { return s + c.width; }, 0);
    const h = Math.max.apply(null, canvases.map(function (c) { return c.height; }));
    const out = document.createElement("canvas");
    out.width = w; out.height = h;
    const ctx = out.getContext("2d");
    let x = 0;
    canvases.forEach(function (c) { ctx.drawImage(c, x, 0); x += c.width; });
    const a = document.createElement("a");
    a.href = out.toDataURL("image/png");
    a.download = "twin-" + (document.body.dataset.rendered || "view").replace(/[^A-Za-z0-9_-]/g, "_") + ".png";
    document.body.appendChild(a); a.click(); a.remove();
    return a.download;
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    twin: {
      png: function () { return snapshot(); },
      overlay: function (picked, poly) {
        highlight = picked || [];
        drawPoly = poly || [];
        redrawAll();
        return String(highlight.length) + ":" + String(drawPoly.length);
      },
      present: function () {
        const on = document.body.classList.toggle("presenting");
        if (on && document.documentElement.requestFullscreen) {
          document.documentElement.requestFullscreen().catch(function () {});
        } else if (!on && document.fullscreenElement) {
          document.exitFullscreen().catch(function () {});
        }
        setTimeout(function () { window.dispatchEvent(new Event("resize")); }, 50);
        return on ? "on" : "off";
      },
      render: function (base, scenario) {
        if (!base || typeof deck === "undefined") return "";
        const s = scenario || {};
        base.visible = s.visible || {buildings: true, roads: true, lamps: true, results: true};
        render("map-left", base, s.left, "left");
        if (s.right) render("map-right", base, s.right, "right");
        else clear("map-right");
        document.body.dataset.rendered = (s.key || "base");
        return s.key || "base";
      },
    },
  });
})();
