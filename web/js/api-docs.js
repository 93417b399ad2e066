// The starter of the OpenAPI page (served by the server at the API's docs path): Swagger UI
// from the installed package when the page loaded it, else a plain list of the operations.
// Every call it makes carries this tab's key (auth.js); with SSO the cookie does.

import { authHeaders } from "./auth.js";
import { h, replace } from "./components/dom.js";

const host = document.getElementById("swagger-ui");
const spec = new URL(host.dataset.spec, location.href).href;
const METHODS = ["get", "post", "put", "patch", "delete"];

function withKey(request) {
  Object.assign(request.headers, authHeaders());
  return request;
}

async function plainList() {
  const response = await fetch(spec, { headers: authHeaders(), credentials: "same-origin" });
  if (!response.ok) throw new Error(`The API description answered ${response.status}.`);
  const schema = await response.json();
  const rows = Object.entries(schema.paths || {}).flatMap(([path, operations]) =>
    METHODS.filter((method) => operations[method]).map((method) =>
      h("li", { class: "op" }, h("code", { class: `op-method op-${method}`, text: method.toUpperCase() }), " ",
        h("code", { text: path }), " ", h("span", { text: operations[method].summary || "" }))));
  replace(host, h("h1", { text: `${schema.info.title} API ${schema.info.version}` }),
    h("p", {}, "Swagger UI is not installed on this server (pip package swagger-ui-bundle-v2); ",
      h("a", { href: spec }, "the OpenAPI description"), " lists every operation:"),
    h("ul", { class: "ops" }, rows));
}

if (window.SwaggerUIBundle) {
  window.SwaggerUIBundle({
    url: spec, domNode: host, deepLinking: true, requestInterceptor: withKey,
    // No validator badge: it would ask a server elsewhere.
    validatorUrl: null,
  });
} else {
  plainList().catch((error) => replace(host, h("p", { text: error.message })));
}
