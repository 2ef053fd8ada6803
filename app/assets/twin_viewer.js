/* twin viewer: renders the Dash payload with the local deck.gl bundle (no CDN; the optional
 * basemap's tiles come from the viewer itself, never from a remote service).
 * Loaded from the page's head, after deck.gl (and inlined after it in the offline export).
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
  let overlayState = "[]|[]";
  /* Decoded layer data, kept per payload object: a layer whose payload did not change keeps
   * the same data, so deck.gl keeps its GPU buffers (a scenario switch only uploads results). */
  const decoded = new WeakMap();
  /* The frame that shows a render: renderAll() bumps `wanted`, each deck notes the last render
   * it has drawn with every layer loaded (once the GPU is done), and body[data-painted] names
   * the view once every deck has. */
  let wanted = 0;
  let wantedKey = "";
  const NEAREST = {minFilter: "nearest", magFilter: "nearest"};
  const ALL = {buildings: true, roads: true, lamps: true, sensors: true, results: true,
               basemap: true};
  const CULL = {cullMode: "back"};  /* walls facing away are behind others */
  const ON_TOP = {depthTest: false};

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
      const index = roadAt(elId, x, y, 8);
      if (index >= 0) {
        setProps("wi-click", {data: {index: index, t: Date.now()}});
        document.body.dataset.picked = String(index);
      }
    } else if (tool === "draw") {
      const vp = d.getViewports()[0];
      const c = vp && vp.unproject([x, y]);
      if (!c) return;
      drawPoly = drawPoly.concat([[c[0], c[1]]]);
      setProps("wi-poly", {data: drawPoly});
      overlayState = JSON.stringify(highlight) + "|" + JSON.stringify(drawPoly);
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
      const seg = segments(lastBase.roads), a = seg.attributes;
      const want = new Set(highlight);
      const picked = [];
      for (let k = 0; k < seg.length; k++) {
        if (want.has(seg.owner[k])) picked.push(k);
      }
      out.push(new deck.LineLayer({id: "picked-" + key, data: picked,
        getSourcePosition: function (k) { return [a.getSourcePosition.value[2 * k], a.getSourcePosition.value[2 * k + 1]]; },
        getTargetPosition: function (k) { return [a.getTargetPosition.value[2 * k], a.getTargetPosition.value[2 * k + 1]]; },
        getColor: [230, 20, 60, 255], getWidth: 9, widthUnits: "meters", widthMinPixels: 5,
        parameters: ON_TOP}));
    }
    if (drawPoly.length) {
      const ring = drawPoly.length > 2 ? drawPoly.concat([drawPoly[0]]) : drawPoly;
      out.push(new deck.SolidPolygonLayer({id: "area-" + key, data: drawPoly.length > 2 ? [ring] : [],
        getPolygon: function (d) { return d; }, getFillColor: [30, 160, 70, 90], parameters: ON_TOP}));
      out.push(new deck.LineLayer({id: "edges-" + key, data: ring.slice(1).map(function (c, i) { return [ring[i], c]; }),
        getSourcePosition: function (d) { return d[0]; }, getTargetPosition: function (d) { return d[1]; },
        getColor: [20, 110, 50, 255], getWidth: 2, widthUnits: "pixels", parameters: ON_TOP}));
      out.push(new deck.ScatterplotLayer({id: "vertices-" + key, data: drawPoly,
        getPosition: function (d) { return d; }, getFillColor: [20, 110, 50, 255],
        getRadius: 5, radiusUnits: "pixels", parameters: ON_TOP}));
    }
    return out;
  }

  function redraw(elId) {
    const d = decks[elId];
    if (!d || !built[elId]) return;
    d.setProps({layers: built[elId].layers.concat(overlayLayers(built[elId].key))});
  }

  function redrawAll() { Object.keys(decks).forEach(redraw); }

  function cached(p, make) {
    let d = decoded.get(p);
    if (!d) { d = make(); decoded.set(p, d); }
    return d;
  }

  /* Calls `done` once the GPU has executed what is queued on `gl` (a fence, polled without
   * blocking): with software WebGL a frame is on screen seconds after deck.gl has issued it. */
  function whenDrawn(gl, done) {
    let sync = null;
    try {
      sync = gl.fenceSync(gl.SYNC_GPU_COMMANDS_COMPLETE, 0);
      gl.flush();
    } catch (e) {
      sync = null;
    }
    if (!sync) { done(); return; }
    (function check() {
      if (gl.isContextLost() || gl.getSyncParameter(sync, gl.SYNC_STATUS) === gl.SIGNALED) {
        gl.deleteSync(sync);
        done();
      } else {
        setTimeout(check, 10);
      }
    })();
  }

  function mark(name) {
    if (window.performance && performance.mark) performance.mark("twin:" + name);
  }

  const FIRST = -1;  /* the render number of a spare deck's content (the page's first view) */

  function afterRender(d, gl) {
    d._twinFrames = (d._twinFrames || 0) + 1;  /* frames drawn (the tests count them) */
    /* the view is painted once the twin's layers are drawn; the basemap's tiles stream in
     * after (as on any web map): `_twinFullSeq` notes the frame that shows them too */
    const loaded = function (l) { return l.isLoaded; };
    if (!d.props.layers.every(function (l) { return loaded(l) || l.id.startsWith("basemap-"); })) return;
    const all = d.props.layers.every(loaded), seq = d._twinSeq;
    whenDrawn(gl, function () {
      /* a spare's frame counts for the render that adopted it as it was */
      const shown = seq === FIRST && d._twinShows !== undefined ? d._twinShows : seq;
      d._twinDrawnSeq = shown;
      if (all) d._twinFullSeq = shown;
      checkPainted();
      updateTools();  /* the scale needs the map's size, known once drawn */
    });
  }

  /* body[data-painted] names the view once every map shows it, drawn by the GPU. */
  let paintedSeq = 0;
  function checkPainted() {
    const ks = Object.keys(decks);
    if (!unconfirmed && paintedSeq !== wanted && ks.length &&
        ks.every(function (k) { return decks[k]._twinDrawnSeq === wanted; })) {
      paintedSeq = wanted;
      document.body.dataset.painted = wantedKey;
      mark("painted " + wantedKey);
      /* the KPI chart follows (plotly.js), once the map's frame is on screen and the page is
       * idle (its callback and drawing would delay the frames that show the map) */
      const key = wantedKey;
      const later = window.requestIdleCallback ||
        function (f) { setTimeout(f, 50); };
      requestAnimationFrame(function () {
        later(function () { setProps("painted", {children: key}); }, {timeout: 500});
      });
    }
  }

  function decode(b64, Type) {
    const bin = atob(b64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return new Type(bytes.buffer);
  }

  /* Extruded buildings, drawn as roofs and walls: two plain (not instanced) triangle layers.
   * Software WebGL (SwiftShader) pays a large fixed cost per instance of an instanced draw, and
   * deck.gl draws the walls of extruded polygons with one instance per footprint vertex: 50,000
   * buildings took seconds per frame (and a few hundred ms for the demo). Here the walls are
   * quads built once from the footprints, both layers share one shader program, and deck.gl's
   * lighting (its default lights, the material below) is applied once to each face's colour:
   * roofs and walls are flat, so it is the same per-face colour the shader would compute, less
   * the specular highlight (under 1 % at the default view). */
  const MAT = {ambient: 0.45, diffuse: 0.6};
  const LIGHTS = [[[1, -3, 1], 1.0], [[-1, 8, 2.5], 0.9]].map(function (l) {
    const v = l[0], n = Math.hypot(v[0], v[1], v[2]);
    return [v[0] / n, v[1] / n, v[2] / n, l[1]];  /* towards the light, intensity */
  });
  function shade(nx, ny, nz) {
    const n = Math.hypot(nx, ny, nz) || 1;
    let f = MAT.ambient;
    LIGHTS.forEach(function (l) {
      f += MAT.diffuse * l[3] * Math.max(0, (l[0] * nx + l[1] * ny + l[2] * nz) / n);
    });
    return f;
  }
  const ROOF = shade(0, 0, 1);

  /* Roofs (the footprints at their height) and walls (one quad per ring edge, two triangles,
   * with the outward normal of a clockwise ring) of the buildings payload. */
  function buildingMeshes(p) {
    return cached(p, function () {
      const xy = decode(p.positions, Float32Array), h = decode(p.elevation, Float32Array);
      const rgba = decode(p.colors, Uint8Array), starts = decode(p.startIndices, Uint32Array);
      const nv = xy.length / 2;
      const roof = new Float32Array(3 * nv), roofCol = new Uint8Array(4 * nv);
      for (let j = 0; j < nv; j++) {
        roof[3 * j] = xy[2 * j]; roof[3 * j + 1] = xy[2 * j + 1]; roof[3 * j + 2] = h[j];
        for (let c = 0; c < 3; c++) roofCol[4 * j + c] = Math.min(255, rgba[4 * j + c] * ROOF);
        roofCol[4 * j + 3] = rgba[4 * j + 3];
      }
      let ne = 0;
      for (let i = 0; i < p.length; i++) {
        ne += Math.max((i + 1 < p.length ? starts[i + 1] : nv) - starts[i] - 1, 0);
      }
      const pos = new Float32Array(12 * ne), col = new Uint8Array(16 * ne);
      const idx = new Uint32Array(6 * ne), wallStarts = new Uint32Array(ne);
      const owner = new Uint32Array(ne);
      const kx = Math.cos((nv ? xy[1] : 0) * Math.PI / 180);  /* a degree of longitude [°lat] */
      let k = 0;
      for (let i = 0; i < p.length; i++) {
        const end = i + 1 < p.length ? starts[i + 1] : nv;
        for (let j = starts[i]; j + 1 < end; j++, k++) {
          const v = 12 * k, z = h[j];
          pos[v] = xy[2 * j]; pos[v + 1] = xy[2 * j + 1];
          pos[v + 3] = xy[2 * j + 2]; pos[v + 4] = xy[2 * j + 3];
          pos[v + 6] = xy[2 * j + 2]; pos[v + 7] = xy[2 * j + 3]; pos[v + 8] = z;
          pos[v + 9] = xy[2 * j]; pos[v + 10] = xy[2 * j + 1]; pos[v + 11] = z;
          const f = shade(xy[2 * j + 1] - xy[2 * j + 3], (xy[2 * j + 2] - xy[2 * j]) * kx, 0);
          for (let q = 0; q < 4; q++) {
            for (let c = 0; c < 3; c++) col[16 * k + 4 * q + c] = Math.min(255, rgba[4 * j + c] * f);
            col[16 * k + 4 * q + 3] = rgba[4 * j + 3];
          }
          const q0 = 4 * k;  /* counter-clockwise seen from outside: the back faces are culled */
          idx[6 * k] = q0; idx[6 * k + 1] = q0 + 3; idx[6 * k + 2] = q0 + 2;
          idx[6 * k + 3] = q0; idx[6 * k + 4] = q0 + 2; idx[6 * k + 5] = q0 + 1;
          wallStarts[k] = q0;
          owner[k] = i;
        }
      }
      return {
        roofs: {
          length: p.length,
          startIndices: starts,
          attributes: {
            getPolygon: {value: roof, size: 3},
            getFillColor: {value: roofCol, size: 4, normalized: true},
          },
        },
        walls: {
          length: ne,
          startIndices: wallStarts,
          owner: owner,
          attributes: {
            getPolygon: {value: pos, size: 3},
            indices: {value: idx},
            getFillColor: {value: col, size: 4, normalized: true},
          },
        },
      };
    });
  }

  function buildings(p, key) {
    const m = buildingMeshes(p);
    return [  /* walls first, as deck.gl draws extruded polygons: the roofs blend over them */
      new deck.SolidPolygonLayer({id: "walls-" + key, data: m.walls, _normalize: false, pickable: true,
                                  parameters: CULL}),
      new deck.SolidPolygonLayer({id: "buildings-" + key, data: m.roofs, _normalize: false, pickable: true}),
    ];
  }

  /* Lines as segments: a LineLayer draws one quad per segment, where a PathLayer's shader
   * (joints, caps) costs several times more to compile and to draw with software WebGL. At the
   * widths drawn (a few metres) the joints do not show. `owner` maps a segment to its line. */
  function segments(p) {
    return cached(p, function () {
      const pos = decode(p.positions, Float32Array);
      const starts = decode(p.startIndices, Uint32Array);
      const cols = decode(p.colors, Uint8Array);
      const nv = pos.length / 2;
      let ns = 0;
      for (let i = 0; i < p.length; i++) {
        ns += Math.max((i + 1 < p.length ? starts[i + 1] : nv) - starts[i] - 1, 0);
      }
      const src = new Float32Array(2 * ns), dst = new Float32Array(2 * ns);
      const col = new Uint8Array(4 * ns), owner = new Uint32Array(ns);
      let k = 0;
      for (let i = 0; i < p.length; i++) {
        const end = i + 1 < p.length ? starts[i + 1] : nv;
        for (let j = starts[i]; j + 1 < end; j++, k++) {
          src[2 * k] = pos[2 * j]; src[2 * k + 1] = pos[2 * j + 1];
          dst[2 * k] = pos[2 * j + 2]; dst[2 * k + 1] = pos[2 * j + 3];
          col.set(cols.subarray(4 * j, 4 * j + 4), 4 * k);
          owner[k] = i;
        }
      }
      return {
        length: ns,
        owner: owner,
        attributes: {
          getSourcePosition: {value: src, size: 2},
          getTargetPosition: {value: dst, size: 2},
          getColor: {value: col, size: 4, normalized: true},
        },
      };
    });
  }

  /* Result areas (an outage area, buildings coloured by a result): flat polygons just above
   * the ground, translucent so that the streets show through. */
  function areas(p, id) {
    const data = cached(p, function () {
      const xy = decode(p.positions, Float32Array), h = decode(p.elevation, Float32Array);
      const rgba = decode(p.colors, Uint8Array), nv = xy.length / 2;
      const pos = new Float32Array(3 * nv), col = new Uint8Array(rgba);
      for (let j = 0; j < nv; j++) {
        pos[3 * j] = xy[2 * j]; pos[3 * j + 1] = xy[2 * j + 1]; pos[3 * j + 2] = h[j];
        col[4 * j + 3] = 170;
      }
      return {length: p.length, startIndices: decode(p.startIndices, Uint32Array),
              attributes: {getPolygon: {value: pos, size: 3},
                           getFillColor: {value: col, size: 4, normalized: true}}};
    });
    return new deck.SolidPolygonLayer({id: id, data: data, _normalize: false, pickable: true});
  }

  /* Metres per pixel of a view (deck.gl's world is 512 px wide at zoom 0), at
   * which lines and points keep their least width in pixels. The camera is tilted: the far
   * side of the map shows more metres per pixel than its centre, so the centre's figure is
   * raised by (1 + sin pitch), so that a line or point there stays visible and can be hovered. */
  const M_PER_DEG = 111320;  /* metres per degree of latitude */
  function metresPerPixel(view) {
    if (!view || !isFinite(view.zoom)) return 0;
    const centre = 2 * Math.PI * 6378137 * Math.cos(view.latitude * Math.PI / 180) /
      (512 * Math.pow(2, view.zoom));
    return centre * (1 + Math.sin((view.pitch || 0) * Math.PI / 180));
  }

  /* A flat triangle mesh (one shape per feature: its vertices `pos`, colours `rgba`, triangles
   * `idx`, first vertex `starts`) as a plain SolidPolygonLayer's binary data, made once per
   * payload `p` and zoom of its least width `view.zoom`, and kept in `cache` (the last two
   * zooms of each payload). */
  function mesh(cache, p, view, make) {
    const zoom = view ? view.zoom : 0;
    let byZoom = cache.get(p);
    if (!byZoom) { byZoom = new Map(); cache.set(p, byZoom); }
    let r = byZoom.get(zoom);
    if (!r) {
      const m = make();
      r = {length: m.starts.length, startIndices: m.starts, attributes: {
        getPolygon: {value: m.pos, size: 3}, indices: {value: m.idx},
        getFillColor: {value: m.rgba, size: 4, normalized: true}}};
      if (byZoom.size >= 2) byZoom.delete(byZoom.keys().next().value);
      byZoom.set(zoom, r);
    }
    return r;
  }

  /* Zoomed out beyond the twin's first view, lines and points would thin with the map: once
   * the camera has settled, their meshes are made again for the zoom shown (by half zoom
   * levels), so that they keep their least width in pixels. Zoomed in, they keep the first
   * view's width in metres. */
  let meshZoom = null;  /* the zoom their least widths hold at (null: the first view's) */
  let refitTimer = null;
  function widthView(view) {
    if (meshZoom === null || !view) return view;
    return Object.assign({}, view, {zoom: Math.min(view.zoom, meshZoom)});
  }

  function refit() {
    const cur = currentView(), first = lastBase && lastBase.view;
    if (!cur || !first) return;
    const zoom = cur.zoom >= first.zoom ? null : Math.floor(cur.zoom * 2) / 2;
    if (zoom === meshZoom) return;
    meshZoom = zoom;
    Object.keys(built).forEach(function (elId) {
      const b = built[elId];
      b.layers = layersFor(b.from.base, b.from.side, b.key);
      redraw(elId);
    });
  }

  function settled() {
    clearTimeout(refitTimer);
    refitTimer = setTimeout(refit, 200);
  }

  function meshLayer(id, data) {
    return new deck.SolidPolygonLayer({id: id, data: data, _normalize: false, pickable: true});
  }

  /* Lines drawn as flat ribbons: each segment one quad (two triangles) of the line's width,
   * built once, in one plain (not instanced) triangle layer. Software WebGL (SwiftShader) pays
   * a large fixed cost per instance: as instanced segments (deck.gl's LineLayer), the demo's
   * roads and result lines were half of a frame. A quad's index is its segment's, so picking
   * and tooltips read `segments(p).owner` as before. The width is at least `minPx` pixels at
   * `view` (deck.gl's widthMinPixels, at that zoom: see `refit`). */
  const ribbonCache = new WeakMap();
  function ribbons(p, width, minPx, view) {
    return mesh(ribbonCache, p, view, function () {
      const s = segments(p), a = s.attributes, n = s.length;
      const src = a.getSourcePosition.value, dst = a.getTargetPosition.value, col = a.getColor.value;
      const half = Math.max(width, minPx * metresPerPixel(view)) / 2;
      const pos = new Float32Array(12 * n), rgba = new Uint8Array(16 * n);
      const idx = new Uint32Array(6 * n), starts = new Uint32Array(n);
      const kx = Math.cos((n ? src[1] : 0) * Math.PI / 180);  /* a degree of longitude [°lat] */
      for (let k = 0; k < n; k++) {
        const x0 = src[2 * k], y0 = src[2 * k + 1], x1 = dst[2 * k], y1 = dst[2 * k + 1];
        const dx = (x1 - x0) * kx, dy = y1 - y0, len = Math.hypot(dx, dy) || 1;
        const ox = -dy / len * half / (M_PER_DEG * kx), oy = dx / len * half / M_PER_DEG;
        const v = 12 * k;  /* the four corners, z = 0 (Float32Array starts at 0) */
        pos[v] = x0 + ox; pos[v + 1] = y0 + oy; pos[v + 3] = x1 + ox; pos[v + 4] = y1 + oy;
        pos[v + 6] = x1 - ox; pos[v + 7] = y1 - oy; pos[v + 9] = x0 - ox; pos[v + 10] = y0 - oy;
        for (let q = 0; q < 4; q++) rgba.set(col.subarray(4 * k, 4 * k + 4), 16 * k + 4 * q);
        const q0 = 4 * k;
        const t = 6 * k;
        idx[t] = q0; idx[t + 1] = q0 + 1; idx[t + 2] = q0 + 2;
        idx[t + 3] = q0; idx[t + 4] = q0 + 2; idx[t + 5] = q0 + 3;
        starts[k] = q0;
      }
      return {pos: pos, rgba: rgba, idx: idx, starts: starts};
    });
  }

  function paths(p, id, view) { return meshLayer(id, ribbons(p, p.width || 3, 1.5, view)); }

  /* The index of the road link under (x, y) on a map, or -1. */
  function roadAt(elId, x, y, radius) {
    const d = decks[elId], key = built[elId] && built[elId].key;
    if (!d || !key || !lastBase || !lastBase.roads) return -1;
    const hit = d.pickObject({x: x, y: y, radius: radius, layerIds: ["roads-" + key]});
    return hit && hit.index >= 0 ? segments(lastBase.roads).owner[hit.index] : -1;
  }

  /* Points sit `z` m (1 m by default) above the ground, over the lines drawn on it (at the
   * same depth, the line segments would hide them). */
  function lifted(xy, z) {
    const out = new Float32Array(xy.length / 2 * 3), h = z || 1;
    for (let i = 0, n = xy.length / 2; i < n; i++) {
      out[3 * i] = xy[2 * i]; out[3 * i + 1] = xy[2 * i + 1]; out[3 * i + 2] = h;
    }
    return out;
  }

  /* Binary point data of a payload (positions lifted `up` metres), decoded once. */
  function pointData(p, up) {
    return cached(p, function () {
      return {
        length: p.length,
        attributes: {
          getPosition: {value: lifted(decode(p.positions, Float32Array), up), size: 3},
          getFillColor: {value: decode(p.colors, Uint8Array), size: 4, normalized: true},
        },
      };
    });
  }

  /* Points drawn as flat discs (a fan of SIDES triangles each) lifted 1 m, in one plain
   * triangle layer, for the same reason as the ribbons: SwiftShader's cost per instance of
   * deck.gl's ScatterplotLayer. A disc's index is its point's. The radius is at least `minPx`
   * pixels at `view`. */
  const SIDES = 10;
  const discCache = new WeakMap();
  function discs(p, radius, minPx, view) {
    return mesh(discCache, p, view, function () {
      const xy = decode(p.positions, Float32Array), col = decode(p.colors, Uint8Array);
      const n = p.length, nv = SIDES + 1;
      const rad = Math.max(radius, minPx * metresPerPixel(view));
      const pos = new Float32Array(3 * nv * n), rgba = new Uint8Array(4 * nv * n);
      const idx = new Uint32Array(3 * SIDES * n), starts = new Uint32Array(n);
      const kx = Math.cos((n ? xy[1] : 0) * Math.PI / 180);
      const ring = [];
      for (let j = 0; j < SIDES; j++) {
        const t = 2 * Math.PI * j / SIDES;
        ring.push([Math.cos(t) * rad / (M_PER_DEG * kx), Math.sin(t) * rad / M_PER_DEG]);
      }
      for (let i = 0; i < n; i++) {
        const v0 = nv * i, x = xy[2 * i], y = xy[2 * i + 1];
        pos[3 * v0] = x; pos[3 * v0 + 1] = y; pos[3 * v0 + 2] = 1;
        for (let j = 0; j < SIDES; j++) {
          const v = 3 * (v0 + 1 + j), t = 3 * (SIDES * i + j);
          pos[v] = x + ring[j][0]; pos[v + 1] = y + ring[j][1]; pos[v + 2] = 1;
          idx[t] = v0; idx[t + 1] = v0 + 1 + j; idx[t + 2] = v0 + 1 + (j + 1) % SIDES;
        }
        for (let j = 0; j < nv; j++) rgba.set(col.subarray(4 * i, 4 * i + 4), 4 * (v0 + j));
        starts[i] = v0;
      }
      return {pos: pos, rgba: rgba, idx: idx, starts: starts};
    });
  }

  function points(p, id, view) { return meshLayer(id, discs(p, p.radius || 4, 2, view)); }

  /* Sensors of one sensor series: larger points than lamps, outlined, coloured by the time
   * mean of the layer's variable. They are few and are what was measured: drawn over
   * everything (roads, lamps, and buildings that would hide them at a pitch). */
  function sensorPoints(p, id) {
    return new deck.ScatterplotLayer({
      id: id,
      data: pointData(p, 2),
      getRadius: p.radius || 8,
      radiusUnits: "meters",
      radiusMinPixels: 5,
      stroked: true,
      getLineColor: [25, 25, 35, 255],
      getLineWidth: 1.5,
      lineWidthUnits: "pixels",
      pickable: true,
      parameters: ON_TOP,
    });
  }

  /* Tooltip arrays of a sensor payload, decoded once; `at` lists the sensors sharing a
   * position (e.g. the two directions of a counted street). */
  const sensorData = new WeakMap();
  function sensorInfo(p) {
    let s = sensorData.get(p);
    if (!s) {
      const xy = decode(p.positions, Float32Array);
      const at = new Map();
      for (let i = 0; i < p.length; i++) {
        const k = xy[2 * i] + "," + xy[2 * i + 1];
        if (at.has(k)) at.get(k).push(i); else at.set(k, [i]);
      }
      s = {value: decode(p.value, Float32Array), nobs: decode(p.nobs, Uint32Array),
           first: decode(p.first, Int32Array), last: decode(p.last, Int32Array),
           xy: xy, at: at};
      sensorData.set(p, s);
    }
    return s;
  }

  /* A time in minutes since 1970-01-01 UTC: its date, with the time of day unless midnight. */
  function timeText(minutes) {
    const iso = new Date(minutes * 60000).toISOString();
    return minutes % 1440 === 0 ? iso.slice(0, 10) : iso.slice(0, 16).replace("T", " ");
  }

  /* The picked sensor (then the others at the same place, at most 4 in all): id, layer,
   * time mean with its unit, observations and the dates of the first and last. */
  function sensorTip(p, index, w) {
    const s = sensorInfo(p);
    const here = s.at.get(s.xy[2 * index] + "," + s.xy[2 * index + 1]) || [index];
    const list = [index].concat(here.filter(function (i) { return i !== index; }));
    const unit = p.legend.unit ? " " + w.unit(p.legend.unit) : "";
    const blocks = list.slice(0, 4).map(function (i) {
      const n = s.nobs[i];
      const span = n === 0 ? "" : w.word("colon") + timeText(s.first[i]) +
        (s.last[i] !== s.first[i] ? " → " + timeText(s.last[i]) : "");
      return [
        w.word("sensor") + " " + p.ids[i] + " (" + p.layer + ")",
        p.variable + ", " + w.word("mean") + w.word("colon") + w.num(s.value[i]) + (n ? unit : ""),
        w.count("obs", n) + span,
      ].join("\n");
    });
    if (list.length > 4) blocks.push("+ " + w.count("more", list.length - 4));
    return blocks.join("\n\n");
  }

  /* The tooltips' words: the scenario payload's `labels`, in the interface language (sent by
   * the server, see twin.viewer.i18n.tooltip_labels). `count` follows the language's plural
   * rules (French: 0 and 1 are singular). A missing word shows its key. */
  function wordsOf(labels) {
    const l = labels || {};
    let rules = null;
    try {
      rules = new Intl.PluralRules(l.lang || "en");
    } catch (e) {
      rules = null;
    }
    function word(k) { return l[k] !== undefined ? l[k] : k; }
    /* numbers as the language writes them (the browser's CLDR data): every digit of the
     * integer part, three significant digits below 100 */
    const big = new Intl.NumberFormat(l.lang || "en", {maximumFractionDigits: 0});
    const small = new Intl.NumberFormat(l.lang || "en", {maximumSignificantDigits: 3});
    return {
      word: word,
      lang: l.lang || "en",
      unit: function (u) { return (l.units && l.units[u]) || u; },
      num: function (v) {
        if (!isFinite(v)) return "–";
        return Math.abs(v) >= 100 ? big.format(v) : small.format(v);
      },
      count: function (k, n) {
        const one = rules ? rules.select(n) === "one" : n === 1;
        return n + " " + word(k + (one ? ".one" : ".other"));
      },
    };
  }

  /* The optional local basemap: an MBTiles or PMTiles file named in the twin's manifest,
   * whose tiles the viewer serves itself (never a remote service). What to draw travels once
   * in the page's first view (`first.basemap`: tile URL template, raster or vector, zoom
   * levels, bounds, tile size, attribution; for vector tiles, the style declared by the
   * server, twin.viewer.basemap.VECTOR_STYLE, and the parser's worker). It is drawn first in
   * every map, without writing depth, so that every other layer draws over it. Tiles the
   * archive lacks are answered 204 (no content). */
  const BASEMAP_UNDER = {depthWriteEnabled: false, depthCompare: "always"};
  /* vector tiles are parsed by loaders.gl's worker, served by the viewer
   * (`first.basemap.worker`), never fetched from a CDN; the options are made once, so that
   * deck.gl sees the same ones at every render */
  let basemapLoad = null;

  function basemapInfo() { return first && first.basemap ? first.basemap : null; }

  /* An offline export carries its basemap's tiles (base64, by "z/x/y", the layers' `url`)
   * and their media type: a tile's address there is a data URL (null where the archive has
   * none). */
  function inlineTile(b, url) {
    const t = b.tiles[url];
    return t ? "data:" + b.media + ";base64," + t : null;
  }

  /* The vector-tile parser's worker: the viewer serves it; an offline export carries its
   * source, started from a blob (a page opened from disk cannot start one from a file). */
  function workerUrl(b) {
    if (b.worker || !b.workerSource) return b.worker;
    b.worker = URL.createObjectURL(new Blob([b.workerSource], {type: "text/javascript"}));
    return b.worker;
  }

  /* A raster tile: its image, or null where the archive has none (204, or given up). */
  function basemapImage(tile) {
    const b = basemapInfo(), url = b && b.tiles ? inlineTile(b, tile.url) : tile.url;
    if (!url) return Promise.resolve(null);
    return fetch(url, {signal: tile.signal}).then(function (r) {
      if (r.status === 204) return null;
      if (!r.ok) throw new Error("twin: basemap tile " + tile.url + ": HTTP " + r.status);
      return r.blob().then(function (b) { return createImageBitmap(b); });
    }).catch(function (e) {
      if (e && e.name === "AbortError") return null;  /* out of view before it came */
      throw e;
    });
  }

  function basemapBitmap(props) {
    if (!props.data) return null;
    const b = props.tile.boundingBox;
    return new deck.BitmapLayer(props, {data: null, image: props.data,
                                        bounds: [b[0][0], b[0][1], b[1][0], b[1][1]]});
  }

  /* The accessors of the vector style (made once: deck.gl keeps the tiles' attributes while
   * the same functions are given). A feature takes the first class whose pattern finds its
   * source layer's name, its `kind` or its `class`; else the default class of its geometry
   * (polygons are filled, lines stroked: polygon outlines are not drawn). */
  let basemapStyle = null;
  function vectorStyle(style) {
    if (basemapStyle) return basemapStyle;
    const named = {};
    style.classes.forEach(function (c) { named[c.name] = c; });
    const tests = style.classes.filter(function (c) { return c.match; }).map(function (c) {
      return [new RegExp(c.match, "i"), c];
    });
    const memo = new Map();
    function cls(f, fallback) {
      const p = (f && f.properties) || {};
      const key = [p.layerName, p.kind, p.class].join("|");
      if (!memo.has(key)) {
        const hit = tests.find(function (t) { return t[0].test(key); });
        memo.set(key, hit ? hit[1] : null);
      }
      return memo.get(key) || named[fallback];
    }
    basemapStyle = {
      getFillColor: function (f) { return cls(f, style.default.polygon).fill; },
      getLineColor: function (f) { return cls(f, style.default.line).line; },
      getLineWidth: function (f) { return cls(f, style.default.line).width; },
    };
    return basemapStyle;
  }

  /* The basemap's layer of one map (none when there is no basemap or it is toggled off). */
  function basemapLayers(on, key) {
    const b = basemapInfo();
    if (!b || !on.basemap) return [];
    const common = {id: "basemap-" + key, data: b.url, minZoom: b.minzoom, maxZoom: b.maxzoom,
                    extent: b.bounds, tileSize: b.tileSize, parameters: BASEMAP_UNDER};
    if (b.kind === "vector") {
      basemapLoad = basemapLoad || {mvt: {workerUrl: workerUrl(b)}};
      if (b.tiles) {
        common.fetch = function (url, how) {
          const inline = inlineTile(b, url);
          return inline ? deck.Layer.defaultProps.fetch.value(inline, how) : Promise.resolve(null);
        };
      }
      return [new deck.MVTLayer(Object.assign(common, vectorStyle(b.style), {
        stroked: false, filled: true, lineWidthUnits: "pixels", getPointRadius: 0,
        material: false, loadOptions: basemapLoad}))];
    }
    return [new deck.TileLayer(Object.assign(common, {getTileData: basemapImage,
                                                       renderSubLayers: basemapBitmap}))];
  }

  /* The basemap's attribution on each map that draws it (its bottom corner). */
  function basemapCredits(s) {
    const b = basemapInfo(), on = !!(b && (s.visible || {}).basemap);
    ["map-left", "map-right"].forEach(function (id) {
      const el = document.getElementById(id);
      if (!el) return;
      let c = el.querySelector(":scope > .basemap-attribution");
      if (!on || (id === "map-right" && !s.right)) { if (c) c.remove(); return; }
      if (!c) {
        c = document.createElement("div");
        c.className = "basemap-attribution";
        el.appendChild(c);
      }
      c.textContent = b.attribution;
    });
  }

  /* The sheet's attribution line: the page's, and the basemap's when a map on it shows it. */
  function withBasemapCredit(text) {
    const b = basemapInfo(), maps = document.querySelector(".maps");
    if (!b || !maps || !maps.querySelector(".map .basemap-attribution")) return text;
    return text ? text + " · " + b.attribution : b.attribution;
  }

  function image(p, id) {
    const img = cached(p, function () {
      return new ImageData(decode(p.rgba, Uint8ClampedArray), p.width, p.height);
    });
    return new deck.BitmapLayer({id: id, image: img, bounds: p.bounds, pickable: true,
                                 textureParameters: NEAREST});
  }

  function layersFor(base, side, key) {
    const on = base.visible || {}, view = widthView(base.view);
    const out = basemapLayers(on, key);  /* the basemap first: under everything */
    if (side && side.grid && on.results) out.push(image(side.grid, "grid-" + key));
    if (side && side.areas && on.results) out.push(areas(side.areas, "resultareas-" + key));
    /* results above the context: a result line is drawn after the road under it */
    if (base.roads && on.roads) out.push(paths(base.roads, "roads-" + key, view));
    if (side && side.paths && on.results) out.push(paths(side.paths, "resultpaths-" + key, view));
    if (base.buildings && on.buildings) out.push.apply(out, buildings(base.buildings, key));
    if (base.lamps && on.lamps) out.push(points(base.lamps, "lamps-" + key, view));
    if (base.sensors && on.sensors) {
      base.sensors.forEach(function (p, k) { out.push(sensorPoints(p, "sensors-" + k + "-" + key)); });
    }
    if (side && side.points && on.results) out.push(points(side.points, "results-" + key, view));
    return out;
  }

  /* The tooltip of a map: what the picked feature is (in the interface language), its value
   * with its unit, the time step of a time-varying layer and the legend's range. */
  function tooltip(base, side, labels) {
    const w = wordsOf(labels);
    return function (info) {
      if (info.index < 0 || !info.layer) return null;
      const id = info.layer.id;
      let p = null;
      let index = info.index;
      let what = "buildings";
      if (id.startsWith("buildings")) p = base.buildings;
      else if (id.startsWith("walls")) {
        p = base.buildings;
        index = buildingMeshes(p).walls.owner[index];
      }
      else if (id.startsWith("roads")) { p = base.roads; what = "roads"; }
      else if (id.startsWith("lamps")) { p = base.lamps; what = "lamps"; }
      else if (id.startsWith("sensors")) {
        p = base.sensors && base.sensors[parseInt(id.split("-")[1], 10)];
        return p ? {text: sensorTip(p, index, w)} : null;
      }
      else if (id.startsWith("resultpaths")) { p = side && side.paths; what = "results"; }
      else if (id.startsWith("resultareas")) { p = side && side.areas; what = "results"; }
      else if (id.startsWith("results")) { p = side && side.points; what = "results"; }
      else if (id.startsWith("grid")) {
        /* the cell under the pointer: deck.gl gives the image pixel (row 0 is north) */
        p = side && side.grid; what = "grid";
        const px = info.bitmap && info.bitmap.pixel;
        if (!p || !px) return null;
        index = Math.floor(px[1]) * p.width + Math.floor(px[0]);
      }
      if (!p) return null;
      if (!p._value) p._value = decode(p.value, Float32Array);
      const line = p === base.roads || (side && p === side.paths);
      const v = p._value[line ? segments(p).owner[index] : index];
      const lg = p.legend, at = lg.label.split("@"), colon = w.word("colon");
      /* what the value is: its declared name in the interface language, else its column */
      const name = (lg.title && (lg.title[w.lang] || lg.title.en)) || at[0];
      /* a category is said by its name (yes / no), a value with its unit */
      const yesNo = lg.categories && lg.categories.length === 2 && lg.categories[0] === 0 && lg.categories[1] === 1;
      const said = yesNo && (v === 0 || v === 1) ? w.word(v ? "yes" : "no")
        : w.num(v) + (lg.unit && !lg.categories && lg.unit !== "1" ? " " + w.unit(lg.unit) : "");
      const lines = [w.word(what), name + colon + said];
      if (at.length > 1) lines.push(w.word("time") + colon + at[1]);
      if (!lg.categories && !lg.flat && isFinite(lg.min) && isFinite(lg.max) && lg.max > lg.min) {
        lines.push(w.word("scale") + colon + w.num(lg.min) + " … " + w.num(lg.max));
      }
      return {text: lines.join("\n")};
    };
  }

  /* The map's canvas, with its drawing buffer already at the size it is shown at: deck.gl's
   * own canvas starts at 300 x 150 px, so its first frame was drawn small, stretched, then
   * drawn again once the resize observer had reported the real size. */
  function sizedCanvas(el) {
    const c = document.createElement("canvas");
    Object.assign(c.style, {position: "absolute", left: "0", top: "0", width: "100%", height: "100%"});
    el.appendChild(c);
    const dpr = window.devicePixelRatio || 1;
    c.width = Math.max(1, Math.floor(c.clientWidth * dpr));
    c.height = Math.max(1, Math.floor(c.clientHeight * dpr));
    return c;
  }

  /* A frame is costly with software WebGL: the resize observer's first report of a
   * canvas that has not changed size (less than a CSS pixel; a drawing buffer within a pixel,
   * the rounding of the device-pixel box) draws nothing new, so it does not ask deck.gl for
   * another frame. Every real resize still does. */
  function quiet(d) {
    const resized = d._onCanvasContextResize;
    if (typeof resized !== "function") return d;
    d._onCanvasContextResize = function (ctx, opts) {
      const css = ctx.getCSSSize(), buf = ctx.getDrawingBufferSize();
      const same = Math.abs(css[0] - this.width) < 1 && Math.abs(css[1] - this.height) < 1 &&
        Math.abs(buf[0] - ctx.canvas.width) <= 1 && Math.abs(buf[1] - ctx.canvas.height) <= 1 &&
        !(opts && opts.syncDrawingBuffer);
      if (!same) return resized.call(this, ctx, opts);
      /* keep the drawing buffer as drawn: resizing it by a pixel would clear the canvas */
      if (typeof ctx.setDrawingBufferSize === "function") {
        ctx.setDrawingBufferSize(ctx.canvas.width, ctx.canvas.height);
      }
    };
    return d;
  }

  /* Whether WebGL runs in software (SwiftShader), read once from a probe context. The first
   * WebGL context of a page is the slow one (the GPU process sets up the renderer); deck.gl's
   * own, created next, is then quick: the probe costs little. (Asking from a worker first,
   * while the page loads, was measured slower: it competes for the two cores.) */
  let softwareGL = null;
  function software() {
    if (softwareGL === null) {
      softwareGL = false;
      try {
        const gl = document.createElement("canvas").getContext("webgl2");
        const info = gl && gl.getExtension("WEBGL_debug_renderer_info");
        const name = info ? String(gl.getParameter(info.UNMASKED_RENDERER_WEBGL)) : "";
        softwareGL = /swiftshader|llvmpipe|software/i.test(name);
        const lose = gl && gl.getExtension("WEBGL_lose_context");
        if (lose) lose.loseContext();
      } catch (e) {
        softwareGL = false;
      }
    }
    return softwareGL;
  }

  function makeDeck(canvas, elId, view, props) {
    let d = null;
    d = quiet(new deck.Deck({
      canvas: canvas,
      width: "100%",
      height: "100%",
      initialViewState: view,
      controller: true,
      useDevicePixels: true,
      deviceProps: {
        /* multisampling doubles the cost of a frame with software WebGL: off there only */
        webgl: {preserveDrawingBuffer: true, antialias: !software()},
        /* luma.gl waits for the window's load event by default (every script and resource of
         * the page loaded): the first frame then comes at the first animation frame after the
         * page's scripts have run. (Drawing at once, before Dash's scripts, was measured no
         * faster: the two cores are busy either way.) */
        waitForPageLoad: false,
      },
      parameters: {clearColor: [0.94, 0.95, 0.96, 1]},
      onAfterRender: function (ctx) { if (d) afterRender(d, ctx.gl); },
      onLoad: function () { mark("deck-load"); },
      onViewStateChange: function (e) {
        if (!d || decks[elId] !== d) return;  /* a spare deck does not move the maps */
        viewState = e.viewState;
        Object.keys(decks).forEach(function (k) {
          if (k !== elId && decks[k]) decks[k].setProps({viewState: viewState});
        });
        d.setProps({viewState: viewState});
        updateTools();
        settled();
      },
      ...props,
    }));
    d._twinCanvas = canvas;
    return d;
  }

  /* The first view of the page (static layers and the first run's layers), written by the app
   * in the page's head (#twin-first) rather than in Dash's layout: this file runs from the
   * head, right after deck.gl, and starts drawing it while Dash loads and builds the page. */
  let first = null;
  (function readFirst() {
    const el = document.getElementById("twin-first");
    if (!el) return;
    try {
      first = JSON.parse(el.textContent);
    } catch (e) {
      console.error("twin: unreadable first view", e);
    }
  })();

  /* With software WebGL, a deck's first frame costs seconds: creating the WebGL context,
   * compiling and linking deck.gl's shaders, SwiftShader's code generation, uploads. So, while
   * Dash starts the page, a deck draws the first view in a hidden copy of the map's place in
   * the page (same classes, so the same size); when Dash renders the view, the canvas moves
   * into the map and is shown as drawn. */
  let spare = null;
  function prewarm() {
    if (spare || !first || !first.base || decks["map-left"] || typeof deck === "undefined") return;
    const base = first.base, s = first.scenario || {};
    base.visible = s.visible || ALL;
    const ghost = document.createElement("div");
    ghost.className = "body twin-ghost";
    ghost.innerHTML = '<aside></aside><main><div class="maps"><div class="map"></div></div></main>';
    (document.body || document.documentElement).appendChild(ghost);  /* from the head: no body yet */
    const layers = layersFor(base, s.left, "left");
    spare = makeDeck(sizedCanvas(ghost.querySelector(".map")), "map-left", base.view,
                     {layers: layers, getTooltip: tooltip(base, s.left, s.labels)});
    spare._twinSeq = FIRST;
    spare._twinGhost = ghost;
    spare._twinFor = {base: base, side: s.left, labels: s.labels, layers: layers};
    mark("prewarm");
  }

  /* Move the spare deck's canvas into the map. If the sizes differ, give deck.gl the new size
   * at once, so that its next frame is drawn at the map's size (not small, then again once
   * the resize observer has reported). Returns null when there is no spare. */
  function adopt(el) {
    const d = spare;
    if (!d) return null;
    spare = null;
    const c = d._twinCanvas;
    /* the canvas and what deck.gl put beside it (its widgets, the tooltip among them) move
     * together, and deck.gl's widgets are told their new parent */
    const host = c.parentElement;
    while (host.firstChild) el.appendChild(host.firstChild);
    const wm = d.widgetManager;
    if (wm) {
      wm.parentElement = el;
      el.classList.add("deck-widget-container");
    }
    d._twinGhost.remove();
    const dpr = window.devicePixelRatio || 1;
    const w = c.clientWidth, h = c.clientHeight;
    const ctx = d.device && d.device.canvasContext;
    const css = ctx && ctx.getCSSSize ? ctx.getCSSSize() : [w, h];
    if (Math.abs(css[0] - w) < 1 && Math.abs(css[1] - h) < 1) return d;
    if (ctx && typeof ctx._handleResize === "function") {
      ctx._handleResize([{target: c, contentBoxSize: [{inlineSize: w, blockSize: h}],
        devicePixelContentBoxSize: [{inlineSize: Math.floor(w * dpr), blockSize: Math.floor(h * dpr)}]}]);
    } else if (!ctx) {  /* the WebGL device is not created yet: it reads the canvas size */
      c.width = Math.max(1, Math.floor(w * dpr));
      c.height = Math.max(1, Math.floor(h * dpr));
    }
    return d;
  }

  function render(elId, base, side, key, labels) {
    const el = document.getElementById(elId);
    if (!el) return;
    mark("render " + key);
    el._twinKey = key;
    listen(el, elId, key);
    lastBase = base;
    window.twinBase = base;
    if (decks[elId] && !el.contains(decks[elId]._twinCanvas)) clear(elId);  /* the element was replaced */
    const fresh = elId === "map-left" && !decks[elId] ? adopt(el) : null;
    if (fresh) {
      decks[elId] = fresh;
      fresh._twinSeq = wanted;
      const f = fresh._twinFor;
      const same = f.base === base && f.side === side && f.labels === labels;
      if (same && !overlayLayers(key).length) {
        built[elId] = {layers: f.layers, key: key, from: {base: base, side: side}};  /* shown */
        fresh._twinShows = wanted;
        if (fresh._twinDrawnSeq === FIRST) fresh._twinDrawnSeq = wanted;
        if (fresh._twinFullSeq === FIRST) fresh._twinFullSeq = wanted;
        checkPainted();
        return;
      }
    }
    const layers = layersFor(base, side, key);
    built[elId] = {layers: layers, key: key, from: {base: base, side: side}};
    const props = {layers: layers.concat(overlayLayers(key)),
                   getTooltip: tooltip(base, side, labels)};
    if (!viewState) viewState = base.view;
    if (decks[elId]) {
      decks[elId]._twinSeq = wanted;
      decks[elId].setProps(props);
    } else {
      decks[elId] = makeDeck(sizedCanvas(el), elId, viewState, props);
      decks[elId]._twinSeq = wanted;
    }
  }

  function renderAll(base, scenario) {
    const s = scenario || {};
    wanted += 1;
    wantedKey = s.key || "base";
    onMap = {base: base, query: s.query || null};
    base.visible = s.visible || ALL;
    render("map-left", base, s.left, "left", s.labels);
    if (s.right) render("map-right", base, s.right, "right", s.labels);
    else clear("map-right");
    focus = s.focus || null;
    toolWords = wordsOf(s.labels);
    tools(document.getElementById("map-left"));
    swipe(s.right && s.swipe);
    const caps = s.captions || [];
    caption("map-left", caps[0]);
    caption("map-right", s.right ? caps[1] : "");
    basemapCredits(s);
    window.twinDecks = decks;
    window.twinRoadAt = function (x, y, radius) { return roadAt("map-left", x, y, radius || 0); };
    return wantedKey;
  }

  /* A run picked in the scenario picker is drawn early: its map payload is asked for from the
   * viewer's `/view` route as soon as the option is pressed (with the page's choices: the
   * `query` of the view on screen), and drawn once it has arrived and the option is clicked,
   * while Dash makes its round trip and renders the cards and the legend. Dash's answer stays
   * the reference: the same payload is not drawn again, a different one (the page changed
   * meanwhile) is. Until that answer, the view is neither `rendered` nor `painted`. */
  let onMap = {base: null, query: null};  /* what renderAll last drew from */
  let early = null;        /* {run, clicked, data, text}: the run pressed in the picker */
  let unconfirmed = false; /* the maps show an early payload that Dash has not sent yet */

  function pickedRun(target) {
    const opt = target && target.closest ? target.closest("[role=option]") : null;
    const picker = document.getElementById("run");
    const menu = picker && document.getElementById(picker.getAttribute("aria-controls") || "");
    const input = opt && menu && menu.contains(opt) ? opt.querySelector("input") : null;
    return input && opt.getAttribute("aria-selected") !== "true" ? input.value : null;
  }

  function drawEarly(e) {
    if (e !== early || !e.clicked || !e.data || e.text) return;
    e.text = JSON.stringify(e.data);
    unconfirmed = true;
    renderAll(onMap.base, e.data);
  }

  document.addEventListener("pointerdown", function (ev) {
    const run = pickedRun(ev.target);
    early = null;
    if (!run || !onMap.query || !onMap.base || typeof fetch === "undefined") return;
    const e = early = {run: run, clicked: false, data: null, text: null};
    fetch("/view/" + encodeURIComponent(run) + "?q=" + encodeURIComponent(JSON.stringify(onMap.query)))
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { e.data = data; drawEarly(e); })
      .catch(function () { if (e === early) early = null; });  /* Dash's answer draws it */
  }, true);
  document.addEventListener("click", function (ev) {
    if (early && pickedRun(ev.target) === early.run) {
      early.clicked = true;
      drawEarly(early);
    }
  }, true);

  /* Dash's answer: drawn, unless the maps already show it (drawn early). */
  function answered(base, scenario) {
    const e = early;
    early = null;
    unconfirmed = false;
    const same = e && e.text && base === onMap.base && JSON.stringify(scenario) === e.text;
    const key = same ? wantedKey : renderAll(base, scenario);
    document.body.dataset.rendered = key;
    if (same) requestAnimationFrame(checkPainted);  /* once Dash's cards are in the page */
    return key;
  }

  prewarm();  /* deck.gl is loaded before this file */

  function clear(elId) {
    if (decks[elId]) {
      decks[elId].finalize();
      decks[elId]._twinCanvas.remove();  /* its canvas too: a later deck gets its own */
      delete decks[elId];
      delete built[elId];
    }
  }

  /* The camera tools of the left map (the maps move together): the whole territory, the
   * run's intervention (its targets' extent, sent as `focus`), north up; and a scale bar.
   * Their names are in the interface language (the scenario payload's `labels`). */
  let focus = null, toolWords = wordsOf(null);
  /* drawn, not font glyphs (a system may lack them) */
  const TOOLS = [
    ["home", '<svg viewBox="0 0 20 20" width="18" height="18" aria-hidden="true"><path d="M3 10 L10 3 ' +
      'L17 10 M5 8.5 V17 H15 V8.5" fill="none" stroke="#1d2731" stroke-width="2"/></svg>'],
    ["focus", '<svg viewBox="0 0 20 20" width="18" height="18" aria-hidden="true"><circle cx="10" ' +
      'cy="10" r="5" fill="none" stroke="#1d2731" stroke-width="2"/><path d="M10 1 V6 M10 14 V19 ' +
      'M1 10 H6 M14 10 H19" stroke="#1d2731" stroke-width="2"/></svg>'],
    ["north", '<svg viewBox="0 0 20 20" width="20" height="20" aria-hidden="true">' +
      '<path d="M10 1 L15 15 L10 12 L5 15 Z" fill="#1d2731"/><text x="10" y="20" font-size="6" ' +
      'text-anchor="middle" fill="#1d2731">N</text></svg>'],
  ];

  function currentView() { return viewState || (lastBase && lastBase.view) || null; }

  function goTo(change) {
    const cur = currentView();
    if (!cur) return;
    viewState = Object.assign({}, cur, change);
    Object.keys(decks).forEach(function (k) { if (decks[k]) decks[k].setProps({viewState: viewState}); });
    updateTools();
    settled();
  }

  /* The camera that shows `focus` whole and large: deck.gl's fitBounds on a flat view of the
   * map's size, then the zoom corrected (twice) for the tilted camera, from where the box's
   * corners land on screen with the camera's own pitch and bearing. */
  function fitFocus() {
    const d = decks["map-left"], cur = currentView();
    const vp = d && d.isInitialized && d.getViewports()[0];
    if (!vp || !focus || !cur) return;
    const size = {width: vp.width, height: vp.height};
    const pad = Math.round(Math.min(vp.width, vp.height) / 10);
    const flat = new deck.WebMercatorViewport(Object.assign({}, size,
      {longitude: cur.longitude, latitude: cur.latitude, zoom: cur.zoom}));
    const f = flat.fitBounds([[focus[0], focus[1]], [focus[2], focus[3]]], {padding: pad});
    const corners = [[focus[0], focus[1]], [focus[2], focus[1]], [focus[0], focus[3]], [focus[2], focus[3]]];
    let cam = {longitude: f.longitude, latitude: f.latitude, zoom: f.zoom};
    for (let k = 0; k < 2; k++) {
      const tilted = new deck.WebMercatorViewport(Object.assign({}, size, cur, cam));
      const xy = corners.map(function (c) { return tilted.project(c); });
      const xs = xy.map(function (p) { return p[0]; }), ys = xy.map(function (p) { return p[1]; });
      const fill = Math.max(
        Math.max(Math.abs(Math.max.apply(null, xs) - size.width / 2), Math.abs(Math.min.apply(null, xs) - size.width / 2)) / (size.width / 2 - pad),
        Math.max(Math.abs(Math.max.apply(null, ys) - size.height / 2), Math.abs(Math.min.apply(null, ys) - size.height / 2)) / (size.height / 2 - pad));
      if (!(fill > 0) || !isFinite(fill)) break;
      cam.zoom = cam.zoom - Math.log2(fill);
    }
    cam.zoom = Math.min(cam.zoom, 18);
    goTo(cam);
  }

  const ACTIONS = {
    home: function () { if (lastBase) goTo(lastBase.view); },
    focus: fitFocus,
    north: function () { goTo({bearing: 0}); },
  };

  function tools(el) {
    if (!el) return;
    let box = el.querySelector(":scope > .map-tools");
    if (!box) {
      box = document.createElement("div");
      box.className = "map-tools";
      TOOLS.forEach(function (t) {
        const b = document.createElement("button");
        b.type = "button";
        b.className = "tool-" + t[0];
        b.id = "camera-" + t[0];
        b.innerHTML = t[1];
        b.addEventListener("click", function (e) { e.stopPropagation(); ACTIONS[t[0]](); });
        box.appendChild(b);
      });
      el.appendChild(box);
      const bar = document.createElement("div");
      bar.className = "scale-bar";
      bar.innerHTML = '<div class="scale-line"></div><span class="scale-text"></span>';
      el.appendChild(bar);
    }
    TOOLS.forEach(function (t) {
      const b = box.querySelector(".tool-" + t[0]);
      const name = toolWords.word("camera." + t[0]);
      b.title = name;
      b.setAttribute("aria-label", name);
      if (t[0] === "focus") b.disabled = !focus;
    });
    updateTools();
  }

  /* Distance [m] between two lon/lat points on the sphere (haversine, mean Earth radius). */
  function metres(a, b) {
    const r = Math.PI / 180, dlat = (b[1] - a[1]) * r, dlon = (b[0] - a[0]) * r;
    const h = Math.sin(dlat / 2) ** 2 + Math.cos(a[1] * r) * Math.cos(b[1] * r) * Math.sin(dlon / 2) ** 2;
    return 2 * 6371008.8 * Math.asin(Math.sqrt(h));
  }

  /* The north arrow turned with the map, and the scale bar: the longest round length
   * (1, 2 or 5 × 10^k m) not over 120 px, measured across the map's centre. */
  function updateTools() {
    const el = document.getElementById("map-left"), d = decks["map-left"], cur = currentView();
    if (!el || !d || !cur) return;
    const arrow = el.querySelector(".tool-north svg");
    if (arrow) arrow.style.transform = "rotate(" + (-(cur.bearing || 0)) + "deg)";
    if (!d.isInitialized) return;  /* a new deck: its first frame calls this again */
    const vp = d.getViewports()[0];
    const bar = el.querySelector(":scope > .scale-bar");
    if (!vp || !bar) return;
    const cx = vp.width / 2, cy = vp.height / 2;
    const perPx = metres(vp.unproject([cx - 50, cy]), vp.unproject([cx + 50, cy])) / 100;
    if (!(perPx > 0) || !isFinite(perPx)) return;
    const most = 120 * perPx, p10 = Math.pow(10, Math.floor(Math.log10(most)));
    const len = [5, 2, 1].map(function (k) { return k * p10; }).find(function (v) { return v <= most; });
    bar.querySelector(".scale-line").style.width = (len / perPx).toFixed(1) + "px";
    bar.querySelector(".scale-text").textContent =
      len >= 1000 ? toolWords.num(len / 1000) + " km" : toolWords.num(len) + " m";
    bar.dataset.metres = String(len);
  }

  /* Swipe: the scenario's map laid over the reference's, shown right of a split line that a
   * person moves with the slider under it (mouse, touch, arrow keys). The cameras are already
   * shared; the clip also clips pointer events, so each side answers its own hover. */
  let split = 50;
  function clipSwipe(maps) {
    const right = document.getElementById("map-right"), line = maps.querySelector(".swipe-line");
    if (right) right.style.clipPath = "inset(0 0 0 " + split + "%)";
    if (line) line.style.left = split + "%";
  }

  function swipe(on) {
    const maps = document.querySelector(".maps");
    if (!maps) return;
    maps.classList.toggle("swipe", !!on);
    let handle = maps.querySelector(":scope > .swipe-handle");
    if (!on) {
      const right = document.getElementById("map-right");
      if (right) right.style.clipPath = "";
      if (handle) { handle.remove(); maps.querySelector(".swipe-line").remove(); }
      return;
    }
    if (!handle) {
      const line = document.createElement("div");
      line.className = "swipe-line";
      maps.appendChild(line);
      handle = document.createElement("input");
      Object.assign(handle, {type: "range", min: "0", max: "100", step: "0.5", id: "swipe",
                             className: "swipe-handle"});
      handle.addEventListener("input", function () { split = parseFloat(handle.value); clipSwipe(maps); });
      maps.appendChild(handle);
    }
    handle.value = String(split);
    handle.setAttribute("aria-label", toolWords.word("swipe.handle"));
    handle.title = toolWords.word("swipe.handle");
    clipSwipe(maps);
  }

  /* What a map shows, written on it (the run's title; empty: none). */
  function caption(elId, text) {
    const el = document.getElementById(elId);
    if (!el) return;
    let c = el.querySelector(":scope > .map-caption");
    if (!text) { if (c) c.remove(); return; }
    if (!c) {
      c = document.createElement("div");
      c.className = "map-caption";
      el.appendChild(c);
    }
    c.textContent = text;
  }

  function shown(el) { return el && el.offsetParent !== null; }
  function textOf(sel, root) {
    const el = (root || document).querySelector(sel);
    return el ? el.textContent.trim() : "";
  }

  /* What the page shows beside the maps, read off the page as a person reads it: the title,
   * each map's caption, the legend blocks (title, ramp colours, range), the headline KPI
   * cards and the attribution line. */
  function sheetParts() {
    const maps = Array.from(document.querySelectorAll(".maps .map")).filter(function (m) {
      const c = m.querySelector("canvas");
      return shown(m) && c;
    });
    return {
      title: textOf("#title") || "twin",
      maps: maps.map(function (m) {
        const line = m.querySelector(":scope > .scale-bar .scale-line");
        return {canvas: m.querySelector("canvas"), caption: textOf(":scope > .map-caption", m),
                scale: line ? {px: line.offsetWidth, text: textOf(".scale-text", m)} : null};
      }),
      bearing: (currentView() || {}).bearing || 0,
      legend: Array.from(document.querySelectorAll("#legend .legend-item")).map(function (it) {
        const ramp = it.querySelector(".ramp");
        return {
          cats: Array.from(it.querySelectorAll(".cat")).map(function (c) {
            const sw = c.querySelector(".swatch");
            return {name: c.textContent.trim(), colour: sw ? sw.style.background : "#9aa5ae"};
          }),
          head: it.firstChild ? it.firstChild.textContent.trim() : "",
          stops: ramp ? (ramp.style.background.match(/rgba?\([^)]*\)/g) || []) : [],
          range: Array.from(it.querySelectorAll(".range span")).map(function (x) { return x.textContent; }),
        };
      }),
      kpis: Array.from(document.querySelectorAll("#kpis > .kpi")).map(function (k) {
        return {
          label: textOf(".kpi-label", k), value: textOf(".kpi-value", k),
          change: textOf(".kpi-change", k),
          tone: k.classList.contains("good") ? "#17713a" : k.classList.contains("bad") ? "#b0211a" : "#3d4a55",
        };
      }),
      attribution: withBasemapCredit(textOf("#attribution")),
    };
  }

  /* Lines of ``text`` no wider than ``width`` in the context's font. */
  function wrapText(ctx, text, width) {
    const lines = [];
    let line = "";
    text.split(/\s+/).forEach(function (w) {
      const next = line ? line + " " + w : w;
      if (line && ctx.measureText(next).width > width) { lines.push(line); line = w; }
      else line = next;
    });
    if (line) lines.push(line);
    return lines;
  }

  /* The legend column of the sheet, from ``y`` at ``x``: every block's title, ramp, range. */
  function drawLegend(ctx, blocks, box) {
    let y = box.y;
    blocks.forEach(function (b) {
      ctx.fillStyle = "#1d2731";
      ctx.font = "600 " + box.font + "px sans-serif";
      wrapText(ctx, b.head, box.w).forEach(function (ln) { y += box.font * 1.3; ctx.fillText(ln, box.x, y); });
      y += box.font * 0.5;
      if (b.cats.length) {  /* categories: a swatch and a name each */
        ctx.font = box.font + "px sans-serif";
        b.cats.forEach(function (c) {
          ctx.fillStyle = c.colour; ctx.fillRect(box.x, y, box.font, box.font);
          ctx.fillStyle = "#1d2731"; ctx.fillText(c.name, box.x + box.font * 1.5, y + box.font * 0.9);
          y += box.font * 1.5;
        });
        y += box.font * 0.7;
        return;
      }
      const g = ctx.createLinearGradient(box.x, 0, box.x + box.w, 0);
      b.stops.forEach(function (c, i) { g.addColorStop(b.stops.length > 1 ? i / (b.stops.length - 1) : 0, c); });
      ctx.fillStyle = b.stops.length ? g : "#9aa5ae";
      ctx.fillRect(box.x, y, box.w, box.font);
      y += box.font * 2.2;
      ctx.fillStyle = "#3d4a55";
      ctx.font = box.font + "px sans-serif";
      if (b.range[0]) ctx.fillText(b.range[0], box.x, y);
      if (b.range.length > 1) {
        ctx.textAlign = "right"; ctx.fillText(b.range[1], box.x + box.w, y); ctx.textAlign = "left";
      }
      y += box.font * 1.2;
    });
  }

  /* The scale bar of a map on the sheet, as on screen (its length in CSS pixels). */
  function drawScale(ctx, scale, at) {
    const w = scale.px * at.dpr;
    ctx.fillStyle = "rgba(255,255,255,0.88)";
    ctx.fillRect(at.x - at.font / 3, at.y - 1.9 * at.font, w + at.font * 4, 2.3 * at.font);
    ctx.strokeStyle = "#1d2731"; ctx.lineWidth = Math.max(2, at.dpr * 2);
    ctx.beginPath();
    ctx.moveTo(at.x, at.y - 0.6 * at.font); ctx.lineTo(at.x, at.y); ctx.lineTo(at.x + w, at.y);
    ctx.lineTo(at.x + w, at.y - 0.6 * at.font); ctx.stroke();
    ctx.fillStyle = "#1d2731"; ctx.font = at.font + "px sans-serif";
    ctx.fillText(scale.text, at.x + w + at.font / 3, at.y);
  }

  /* A north arrow turned by the map's bearing [degrees]. */
  function drawNorth(ctx, bearing, at) {
    const r = at.font;
    ctx.save();
    ctx.fillStyle = "rgba(255,255,255,0.88)";
    ctx.beginPath(); ctx.arc(at.x, at.y, 1.6 * r, 0, 2 * Math.PI); ctx.fill();
    ctx.translate(at.x, at.y); ctx.rotate(-bearing * Math.PI / 180);
    ctx.fillStyle = "#1d2731";  /* dark, not red: red is a data colour on these maps */
    ctx.beginPath(); ctx.moveTo(0, -1.3 * r); ctx.lineTo(0.6 * r, 0.7 * r); ctx.lineTo(0, 0.3 * r);
    ctx.lineTo(-0.6 * r, 0.7 * r); ctx.closePath(); ctx.fill();
    ctx.restore();
    ctx.fillStyle = "#1d2731"; ctx.font = "600 " + Math.round(0.8 * r) + "px sans-serif";
    ctx.textAlign = "center"; ctx.fillText("N", at.x, at.y + 1.45 * r); ctx.textAlign = "left";
  }

  /* The headline KPI cards in a row under the maps. */
  function drawKpis(ctx, kpis, box) {
    const n = Math.max(1, Math.min(kpis.length, 4));
    const w = box.w / n;
    kpis.slice(0, 4).forEach(function (k, i) {
      const x = box.x + i * w + box.font * 0.5;
      ctx.fillStyle = "#51606c"; ctx.font = box.font + "px sans-serif";
      ctx.fillText(wrapText(ctx, k.label, w - box.font)[0] || "", x, box.y + box.font * 1.3);
      ctx.fillStyle = "#1d2731"; ctx.font = "650 " + Math.round(box.font * 1.4) + "px sans-serif";
      ctx.fillText(k.value, x, box.y + box.font * 3);
      ctx.fillStyle = k.tone; ctx.font = "600 " + box.font + "px sans-serif";
      ctx.fillText(wrapText(ctx, k.change, w - box.font)[0] || "", x, box.y + box.font * 4.5);
    });
  }

  /* The sheet of a meeting: the title, the maps with their captions, the legend, the headline
   * KPIs and the attribution (ODbL and other licences require it), as one canvas. */
  /* The two maps of the swipe view as one, as on screen: the reference left of the split
   * line, the scenario right of it; both captions. */
  function swiped(maps) {
    const a = maps[0], b = maps[1], c = document.createElement("canvas");
    c.width = a.canvas.width; c.height = a.canvas.height;
    const ctx = c.getContext("2d"), cut = Math.round(c.width * split / 100);
    ctx.drawImage(a.canvas, 0, 0);
    ctx.drawImage(b.canvas, cut, 0, c.width - cut, c.height, cut, 0, c.width - cut, c.height);
    ctx.fillStyle = "#ffffff"; ctx.fillRect(cut - 1, 0, 3, c.height);
    return {canvas: c, caption: [a.caption, b.caption].filter(Boolean).join("  |  "), scale: a.scale};
  }

  function sheet() {
    const parts = sheetParts();
    if (!parts.maps.length) return null;
    const maps = document.querySelector(".maps");
    if (maps && maps.classList.contains("swipe") && parts.maps.length === 2) {
      parts.maps = [swiped(parts.maps)];
    }
    const dpr = window.devicePixelRatio || 1, f = Math.round(15 * dpr), pad = f;
    const mapW = parts.maps.reduce(function (s, m) { return s + m.canvas.width; }, 0);
    const mapH = Math.max.apply(null, parts.maps.map(function (m) { return m.canvas.height; }));
    const legendW = 20 * f, titleH = 3 * f, kpiH = parts.kpis.length ? 5.5 * f : 0;
    const out = document.createElement("canvas");
    out.width = mapW + legendW + 2 * pad;
    const probe = out.getContext("2d");
    probe.font = f + "px sans-serif";
    const foot = wrapText(probe, parts.attribution, out.width - 2 * pad);
    const footH = (foot.length * 1.4 + 1) * f;
    out.height = Math.round(titleH + mapH + kpiH + footH);
    const ctx = out.getContext("2d");
    ctx.fillStyle = "#ffffff"; ctx.fillRect(0, 0, out.width, out.height);
    ctx.fillStyle = "#1d2731"; ctx.fillRect(0, 0, out.width, titleH);
    ctx.fillStyle = "#ffffff"; ctx.font = "600 " + Math.round(f * 1.35) + "px sans-serif";
    ctx.fillText(parts.title, pad, titleH * 0.66);
    let x = 0;
    parts.maps.forEach(function (m) {
      ctx.drawImage(m.canvas, x, titleH);
      if (m.caption) {
        ctx.font = "600 " + f + "px sans-serif";
        const w = Math.min(ctx.measureText(m.caption).width + f, m.canvas.width);
        ctx.fillStyle = "rgba(255,255,255,0.9)"; ctx.fillRect(x, titleH, w, 1.8 * f);
        ctx.fillStyle = "#1d2731"; ctx.fillText(m.caption, x + f / 2, titleH + 1.3 * f);
      }
      if (m.scale) drawScale(ctx, m.scale, {x: x + f, y: titleH + mapH - f, dpr: dpr, font: f});
      x += m.canvas.width;
    });
    drawNorth(ctx, parts.bearing, {x: parts.maps[0].canvas.width - 2 * f, y: titleH + 2.8 * f, font: f});
    drawLegend(ctx, parts.legend, {x: mapW + pad, y: titleH, w: legendW, font: f});
    drawKpis(ctx, parts.kpis, {x: 0, y: titleH + mapH, w: mapW, font: f});
    ctx.fillStyle = "#f4f6f8"; ctx.fillRect(0, out.height - footH, out.width, footH);
    ctx.fillStyle = "#3d4a55"; ctx.font = f + "px sans-serif";
    foot.forEach(function (ln, i) { ctx.fillText(ln, pad, out.height - footH + (i + 1.2) * 1.4 * f); });
    return out;
  }

  /* Download the sheet as a PNG named after the view. */
  function snapshot() {
    const out = sheet();
    if (!out) return "";
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
        const state = JSON.stringify(highlight) + "|" + JSON.stringify(drawPoly);
        if (state !== overlayState) {  /* a frame costs: draw only when the overlay changed */
          overlayState = state;
          redrawAll();
        }
        return String(highlight.length) + ":" + String(drawPoly.length);
      },
      /* the editor's form emptied for a new base run; a part already empty is left as it is */
      resetForm: function (_parent, links, poly, lamps) {
        const nu = window.dash_clientside.no_update;
        const empty = function (v) { return !v || (Array.isArray(v) && !v.length); };
        return [empty(links) ? nu : [], empty(poly) ? nu : [], lamps == null ? nu : null];
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
        /* the stores are empty until a callback fills them: the first view is the page's */
        if (!scenario && first) scenario = first.scenario;
        if (!base && first) base = first.base;
        if (!base || typeof deck === "undefined") return "";
        return answered(base, scenario);
      },
    },
  });
})();
