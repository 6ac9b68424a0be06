// The console's shell: hash routing between the four views, the API-key bar, the header pills, and one
// place where failures are shown. Views are in their own modules; everything they show comes from the
// server's own routes.
import { apiKey, setApiKey, get } from "./api.js";
import { adaptersView } from "./adapters.js";
import { engineView } from "./engine.js";
import { trafficView } from "./traffic.js";
import { compareView } from "./compare.js";

const $ = (id) => document.getElementById(id);

function showError(e) {
  const box = $("fatal");
  if (!e) { box.hidden = true; return; }
  if (e.status === 401 || e.status === 403) {
    $("key-bar").hidden = false;
    $("key-message").textContent = e.message;
  }
  box.textContent = e.message;
  box.hidden = false;
}

const compare = compareView();
const views = {
  adapters: adaptersView({
    onModels(base, adapters) { $("base-model").textContent = base.id; compare.models(base, adapters); },
    onError: showError,
  }),
  engine: engineView({
    onEngine(e) { $("mode-pill").textContent = `LoRA ${e.lora_mode.effective}${e.lora_mode.configured === "auto" ? " (auto)" : ""}`; },
    onError: showError,
  }),
  traffic: trafficView({ onError: showError }),
  compare,
};

function route() {
  const name = (location.hash || "#adapters").slice(1);
  const current = views[name] ? name : "adapters";
  for (const [key, view] of Object.entries(views)) {
    const active = key === current;
    $("view-" + key).hidden = !active;
    document.querySelector(`nav a[data-view="${key}"]`).classList.toggle("active", active);
    active ? view.show() : view.hide();
  }
  views.adapters.refresh().then(() => showError(null), showError);   // the model list feeds the header and Compare
  document.title = `InferenceHost · ${current[0].toUpperCase()}${current.slice(1)}`;
}

$("key-button").addEventListener("click", () => { $("key-bar").hidden = !$("key-bar").hidden; $("key-input").focus(); });
$("key-bar").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  setApiKey($("key-input").value.trim());
  $("key-input").value = "";
  keyLabel();
  try {
    await get("/v1/models");
    $("key-bar").hidden = true;
    $("key-message").textContent = "";
    route();
  } catch (e) { showError(e); }
});
$("key-clear").addEventListener("click", () => { setApiKey(""); keyLabel(); $("key-message").textContent = "key forgotten"; });
const keyLabel = () => ($("key-button").textContent = apiKey() ? "API key ✓" : "API key");
keyLabel();

window.addEventListener("hashchange", route);
route();
