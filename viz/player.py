"""A self-contained HTML player for an :class:`~viz.frames.Animation`: learners step through
it at their own pace.

Play/pause, one frame forward or back, the previous or next chapter (each tour step, and the
start of each phase, marked on the scrubber), a scrubber, speed 0.25x to 2x, loop on or off;
keys: space, left/right, shift+left/right for chapters, Home/End. The frame's caption is
text on the page, so it can be read aloud and copied.

Frames stay lossless and the file small, the way the GIF encoder does it: frame 0 is one
PNG, every later frame a PNG of the box of pixels that changed, unchanged pixels inside it
transparent, drawn over the previous frame on a canvas. Each PNG carries only the colours it
uses. The page seeks by replaying patches from a snapshot it keeps every ``KEY_EVERY``
frames. No network, no external script or font.
"""
import base64
import html
import io
import itertools
import json

import numpy as np
from PIL import Image

from .palette import BG, TRANSPARENT, palette_rgb

KEY_EVERY = 12          # snapshot every 12 frames: a seek replays at most 11 patches
SPEEDS = (0.25, 0.5, 0.75, 1, 1.5, 2)
_ids = itertools.count()


# -- per-frame metadata ------------------------------------------------------------------------
def frame_captions(anim):
    """The caption of every frame: ``anim.captions`` when set, else each frame's declared
    caption (``texts[i]["caption"]``, or the ``"stage"`` a staged renderer names), else one
    written from the frame's phase ("tour 2 / 3: REASON", "sweep", "the complete output").

    (Renderers that declare no caption today: elementwise, linear, flatten and softmax;
    once the shared frame grammar writes one per frame, it comes through the first rule.)"""
    if getattr(anim, "captions", None) is not None:
        return [str(c) for c in anim.captions]
    phases = anim.phases or []
    n_tour = phases.count("tour")
    out = []
    for i in range(len(anim)):
        t = anim.texts[i] if anim.texts and i < len(anim.texts) else None
        c = None
        if isinstance(t, dict):
            c = t.get("caption") or t.get("stage")
        if not c:
            ph = phases[i] if i < len(phases) else None
            if ph == "tour":
                # the elementwise, linear and flatten renderers name why a step is toured
                why = t.get("reason") if isinstance(t, dict) else None
                c = f"tour {phases[:i + 1].count('tour')} / {n_tour}"
                c += f": {why}" if why else ""
            elif ph == "hold" or (ph is None and i == len(anim) - 1):
                c = "the complete output"
            elif ph == "sweep":
                c = "sweep: the other steps, fast"
            else:
                c = f"frame {i + 1} / {len(anim)}"
        out.append(str(c))
    return out


def chapters(anim):
    """Frame indices a learner jumps between: frame 0, every tour frame, and the first frame
    of each phase."""
    phases = anim.phases or []
    marks = {0}
    for i, ph in enumerate(phases):
        if ph == "tour" or (i and ph != phases[i - 1]):
            marks.add(i)
    return sorted(m for m in marks if m < len(anim))


# -- frame encoding -----------------------------------------------------------------------------
def _png(idx, transparent=False):
    """A palette PNG of ``idx`` (palette indices) holding only the colours it uses; the
    ``TRANSPARENT`` index, when present, becomes fully transparent."""
    used = np.flatnonzero(np.bincount(idx.ravel(), minlength=256))   # faster than np.unique
    lut = np.zeros(256, np.uint8)
    lut[used] = np.arange(used.size)
    local = lut[idx]
    im = Image.frombytes("P", (idx.shape[1], idx.shape[0]), local.tobytes())
    im.putpalette(palette_rgb()[used].tobytes())
    opts = {}
    hit = np.flatnonzero(used == TRANSPARENT)
    if transparent and hit.size:
        opts["transparency"] = int(hit[0])
    buf = io.BytesIO()
    im.save(buf, format="PNG", optimize=True, **opts)
    return buf.getvalue()


def encode_frames(frames):
    """Frames as patches: ``[(x, y, png bytes) or None]``, frame 0 whole, each later frame the
    box of changed pixels (None when nothing changed), unchanged ones transparent."""
    out = [(0, 0, _png(frames[0]))]
    for prev, cur in zip(frames, frames[1:]):
        diff = cur != prev
        rows, cols = np.flatnonzero(diff.any(axis=1)), np.flatnonzero(diff.any(axis=0))
        if rows.size == 0:
            out.append(None)
            continue
        y0, y1, x0, x1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
        crop = np.where(diff[y0:y1, x0:x1], cur[y0:y1, x0:x1], np.uint8(TRANSPARENT))
        out.append((int(x0), int(y0), _png(crop, transparent=True)))
    return out


def decode_frames(data):
    """The RGB frames a player's data describes, composited as the page draws them (for
    tests and tools): ``data`` is :func:`player_data`'s dict. Returns a list of (H, W, 3)."""
    canvas = np.zeros((data["h"], data["w"], 4), np.uint8)
    out = []
    for f in data["frames"]:
        if f.get("img") is not None:
            raw = base64.b64decode(data["images"][f["img"]].split(",", 1)[1])
            im = np.asarray(Image.open(io.BytesIO(raw)).convert("RGBA"))
            y, x = f["y"], f["x"]
            region = canvas[y:y + im.shape[0], x:x + im.shape[1]]
            opaque = im[..., 3] == 255
            region[opaque] = im[opaque]
        out.append(canvas[..., :3].copy())
    return out


def player_data(anim, durations=None, title=None):
    """Everything the page needs, as a JSON-ready dict: size, images (PNG data URIs), per
    frame its delay, patch, phase, step and caption, and the chapters."""
    durations = list(anim.delays() if durations is None else durations)
    if len(durations) != len(anim):
        raise ValueError(f"player: {len(durations)} durations for {len(anim)} frames")
    h, w = anim.frames[0].shape
    patches = encode_frames(anim.frames)
    captions = frame_captions(anim)
    phases = anim.phases or [None] * len(anim)
    images, frames = [], []
    for i, p in enumerate(patches):
        f = {"ms": int(durations[i]), "phase": phases[i], "step": int(anim.steps[i]),
             "caption": captions[i]}
        if p is not None:
            f.update(x=p[0], y=p[1], img=len(images))
            images.append("data:image/png;base64," + base64.b64encode(p[2]).decode("ascii"))
        frames.append(f)
    bg = "#%02x%02x%02x" % tuple(int(v) for v in palette_rgb()[BG])
    return {"w": int(w), "h": int(h), "title": title or "", "bg": bg, "frames": frames,
            "images": images, "chapters": chapters(anim), "speeds": list(SPEEDS),
            "key_every": KEY_EVERY, "icons": {k: _icon(k) for k in ("play", "pause")}}


# -- the page ------------------------------------------------------------------------------------
_CSS = """
.ndl-player{--ndl-bg:#15171c;--ndl-fg:#e8e8ec;--ndl-dim:#969ca8;--ndl-acc:#ffb000;
  background:var(--ndl-bg);color:var(--ndl-fg);font:14px/1.4 system-ui,-apple-system,
  "Segoe UI",Roboto,sans-serif;padding:8px;border-radius:6px;max-width:100%;
  box-sizing:border-box;display:inline-block;outline:none}
.ndl-player:focus-visible{box-shadow:0 0 0 2px var(--ndl-acc)}
.ndl-player canvas{display:block;max-width:100%;height:auto;image-rendering:pixelated;
  image-rendering:crisp-edges}
.ndl-player .ndl-caption{margin:6px 2px 4px;min-height:2.8em;font-size:15px}
.ndl-player .ndl-bar{display:flex;flex-wrap:wrap;align-items:center;gap:6px}
.ndl-player button svg{vertical-align:middle}
.ndl-player:not([data-ready]) canvas,.ndl-player:not([data-ready]) .ndl-bar{display:none}
.ndl-player button{background:#2e323c;color:var(--ndl-fg);border:1px solid #40454f;
  border-radius:4px;min-width:34px;height:30px;font:inherit;cursor:pointer}
.ndl-player button:hover,.ndl-player button:focus-visible{border-color:var(--ndl-acc)}
.ndl-player .ndl-track{position:relative;flex:1 1 200px;min-width:140px;height:30px}
.ndl-player input[type=range]{position:absolute;left:0;right:0;top:6px;width:100%;margin:0;
  accent-color:var(--ndl-acc)}
.ndl-player .ndl-marks{position:absolute;left:8px;right:8px;top:0;height:6px}
.ndl-player .ndl-mark{position:absolute;top:0;width:3px;height:7px;margin-left:-1px;
  background:var(--ndl-acc);border:0;padding:0;min-width:0;border-radius:1px}
.ndl-player .ndl-count{color:var(--ndl-dim);font-variant-numeric:tabular-nums;
  white-space:nowrap}
.ndl-player select{background:#2e323c;color:var(--ndl-fg);border:1px solid #40454f;
  border-radius:4px;height:30px}
.ndl-player label{color:var(--ndl-dim);white-space:nowrap}
.ndl-player .ndl-fallback{max-width:100%;image-rendering:pixelated}
"""

# One script serves every player on a page (a notebook may hold several): it finds each
# .ndl-player not yet started and reads the JSON beside it.
_JS = r"""
(function(){
"use strict";
function start(root){
  if(root.dataset.ready) return; root.dataset.ready="1";
  var D=JSON.parse(root.querySelector("script.ndl-data").textContent);
  var F=D.frames, N=F.length, K=D.key_every;
  var fb=root.querySelector(".ndl-fallback"); if(fb) fb.remove();
  var cv=root.querySelector("canvas"), cx=cv.getContext("2d");
  cx.imageSmoothingEnabled=false;
  var cap=root.querySelector(".ndl-caption"), cnt=root.querySelector(".ndl-count");
  var rng=root.querySelector("input[type=range]"), sp=root.querySelector("select");
  var lp=root.querySelector("input[type=checkbox]"), pb=root.querySelector("[data-act=play]");
  var imgs=[], snaps=[], cur=-1, playing=false, timer=null, ready=false;
  root.dataset.frame="-1"; root.dataset.playing="0";
  function patch(ctx,i){var f=F[i]; if(f.img!==undefined) ctx.drawImage(imgs[f.img],f.x,f.y);}
  function draw(i){
    if(i===cur) return;
    var from;
    if(cur>=0 && i>cur && Math.floor(i/K)===Math.floor(cur/K)) from=cur+1;
    else {var k=Math.floor(i/K); cx.clearRect(0,0,D.w,D.h); cx.drawImage(snaps[k],0,0); from=k*K+1;}
    for(var j=from;j<=i;j++) patch(cx,j);
    cur=i;
  }
  function chapterOf(i){var c=0; D.chapters.forEach(function(m){if(m<=i) c=m;}); return c;}
  function show(i){
    i=Math.max(0,Math.min(N-1,i)); draw(i);
    var f=F[i];
    if(cap.textContent!==f.caption) cap.textContent=f.caption;
    cnt.textContent="frame "+(i+1)+" / "+N+(f.phase?" \u00b7 "+f.phase:"");
    rng.value=i; root.dataset.frame=String(i);
  }
  function tick(){
    timer=null; if(!playing) return;
    var nxt=cur+1;
    if(nxt>=N){ if(lp.checked) nxt=0; else {pause(); return;} }
    show(nxt); schedule();
  }
  function schedule(){ clearTimeout(timer); timer=setTimeout(tick,F[cur].ms/parseFloat(sp.value)); }
  function play(){ if(!ready) return; if(cur>=N-1 && !lp.checked) show(0); playing=true;
    pb.innerHTML=D.icons.pause; pb.setAttribute("aria-label","pause"); root.dataset.playing="1"; schedule(); }
  function pause(){ playing=false; clearTimeout(timer); timer=null;
    pb.innerHTML=D.icons.play; pb.setAttribute("aria-label","play"); root.dataset.playing="0"; }
  function toggle(){ playing?pause():play(); }
  function step(d){ pause(); show(cur+d); }
  function chapter(d){
    pause();
    var t=cur;
    if(d>0){ t=N-1; for(var a=0;a<D.chapters.length;a++){ if(D.chapters[a]>cur){t=D.chapters[a];break;} } }
    else { t=0; for(var b=D.chapters.length-1;b>=0;b--){ if(D.chapters[b]<cur){t=D.chapters[b];break;} } }
    show(t);
  }
  var acts={play:toggle,prev:function(){step(-1)},next:function(){step(1)},
            prevch:function(){chapter(-1)},nextch:function(){chapter(1)},
            first:function(){pause();show(0)},last:function(){pause();show(N-1)}};
  root.addEventListener("click",function(e){
    var b=e.target.closest("[data-act]"); if(b&&acts[b.dataset.act]){acts[b.dataset.act]();}
    var m=e.target.closest("[data-frame]"); if(m){pause(); show(parseInt(m.dataset.frame,10));}
  });
  rng.addEventListener("input",function(){pause(); show(parseInt(rng.value,10));});
  sp.addEventListener("change",function(){ if(playing) schedule(); });
  function onkey(e){
    if(e.target.tagName==="SELECT" || (e.target.tagName==="INPUT" && e.target.type!=="range" && e.target.type!=="checkbox")) return;
    var k=e.key, done=true;
    if(k===" "||k==="Spacebar") toggle();
    else if(k==="ArrowRight") e.shiftKey?chapter(1):step(1);
    else if(k==="ArrowLeft") e.shiftKey?chapter(-1):step(-1);
    else if(k==="Home") acts.first();
    else if(k==="End") acts.last();
    else done=false;
    if(done){ e.preventDefault(); e.stopPropagation(); }
  }
  (root.dataset.keys==="page"?document:root).addEventListener("keydown",onkey);
  var marks=root.querySelector(".ndl-marks");
  D.chapters.forEach(function(m){
    var b=document.createElement("button"); b.className="ndl-mark"; b.dataset.frame=m;
    b.tabIndex=-1; b.title=F[m].caption; b.setAttribute("aria-label","chapter: "+F[m].caption);
    b.style.left=(N>1?100*m/(N-1):0)+"%"; marks.appendChild(b);
  });
  rng.max=N-1;
  Promise.all(D.images.map(function(src,i){
    var im=new Image(); imgs[i]=im; im.src=src; return im.decode();
  })).then(function(){
    // snapshots every K frames, so a seek replays at most K-1 patches
    var w=document.createElement("canvas"); w.width=D.w; w.height=D.h;
    var wx=w.getContext("2d");
    for(var i=0;i<N;i++){
      patch(wx,i);
      if(i%K===0){ var s=document.createElement("canvas"); s.width=D.w; s.height=D.h;
        s.getContext("2d").drawImage(w,0,0); snaps.push(s); }
    }
    ready=true; root.dataset.ready="2"; show(0);
    var still=window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    if(root.dataset.autoplay!=="0" && !still) play(); else pause();
  });
  if(window.parent!==window && root.dataset.keys==="page"){
    var post=function(){ window.parent.postMessage({ndlPlayerHeight:document.documentElement.scrollHeight},"*"); };
    window.addEventListener("load",post); window.addEventListener("resize",post); setTimeout(post,50);
  }
}
document.querySelectorAll(".ndl-player").forEach(start);
})();
"""


# Icons drawn as SVG paths: no font needed (symbol glyphs are missing from many systems).
_ICONS = {
    "first": "M3 2h2v12H3zM14 2v12L6 8z", "prevch": "M8 2v12L1 8zM15 2v12L8 8z",
    "prev": "M11 2v12L3 8zM12 2h2v12h-2z", "play": "M4 2v12l10-6z",
    "pause": "M3 2h4v12H3zM9 2h4v12H9z", "next": "M2 2h2v12H2zM5 2v12l8-6z",
    "nextch": "M1 2v12l7-6zM8 2v12l7-6z", "last": "M2 2v12l8-6zM11 2h2v12h-2z",
}


def _icon(name):
    return (f'<svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true">'
            f'<path fill="currentColor" d="{_ICONS[name]}"/></svg>')


def _markup(data, uid, keys, fallback=None, autoplay=True):
    """The player's markup: controls, canvas, caption, and its data as JSON."""
    w, h = data["w"], data["h"]
    speeds = "".join(f'<option value="{s}"{" selected" if s == 1 else ""}>{s:g}x</option>'
                     for s in data["speeds"])
    # "</" inside JSON would end the script element early
    blob = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    fb = "" if fallback is None else \
        f'<img class="ndl-fallback" src="{fallback}" width="{w}" height="{h}" alt="animation">'
    first = html.escape(data["frames"][0]["caption"])
    return f"""<div class="ndl-player" id="{uid}" tabindex="0" data-keys="{keys}" \
data-autoplay="{int(autoplay)}" role="region" aria-label="{html.escape(data['title'] or 'animation')} player">
{fb}<canvas width="{w}" height="{h}" role="img" aria-label="animation frame"></canvas>
<p class="ndl-caption" aria-live="polite">{first}</p>
<div class="ndl-bar">
<button type="button" data-act="first" title="first frame (Home)" aria-label="first frame">{_icon("first")}</button>
<button type="button" data-act="prevch" title="previous tour step or phase (Shift+Left)" aria-label="previous chapter">{_icon("prevch")}</button>
<button type="button" data-act="prev" title="one frame back (Left)" aria-label="one frame back">{_icon("prev")}</button>
<button type="button" data-act="play" title="play or pause (Space)" aria-label="play">{_icon("play")}</button>
<button type="button" data-act="next" title="one frame forward (Right)" aria-label="one frame forward">{_icon("next")}</button>
<button type="button" data-act="nextch" title="next tour step or phase (Shift+Right)" aria-label="next chapter">{_icon("nextch")}</button>
<button type="button" data-act="last" title="last frame (End)" aria-label="last frame">{_icon("last")}</button>
<div class="ndl-track"><div class="ndl-marks"></div>
<input type="range" min="0" max="{len(data['frames']) - 1}" value="0" step="1" aria-label="frame"></div>
<span class="ndl-count">frame 1 / {len(data['frames'])}</span>
<label>speed <select aria-label="speed">{speeds}</select></label>
<label><input type="checkbox" checked> loop</label>
</div>
<script type="application/json" class="ndl-data">{blob}</script>
</div>"""


def player_html(anim, durations=None, title=None):
    """A whole self-contained page playing ``anim`` (keys work anywhere on the page)."""
    data = player_data(anim, durations, title)
    t = html.escape(title or "numpy_dl animation")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>{t}</title>
<style>html,body{{margin:0;background:{data['bg']}}}body{{padding:8px}}{_CSS}</style>
</head><body>
{_markup(data, "ndl-player", "page")}
<script>{_JS}</script>
</body></html>
"""


def player_fragment(anim, durations=None, title=None, fallback_gif=True):
    """The player as an HTML fragment for a notebook cell: keys work once it has focus
    (click it); where scripts do not run, the animated GIF shows instead."""
    data = player_data(anim, durations, title)
    fb = None
    if fallback_gif:
        fb = "data:image/gif;base64," + base64.b64encode(anim.gif()).decode("ascii")
    uid = f"ndl-player-{next(_ids)}-{np.random.default_rng().integers(1 << 30)}"
    return f"<style>{_CSS}</style>{_markup(data, uid, 'element', fb)}<script>{_JS}</script>"
