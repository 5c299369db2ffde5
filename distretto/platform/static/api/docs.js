// Starts the vendored Swagger UI on the page's OpenAPI document. "Try it out" runs
// with the browser session: writes carry the page's CSRF token, as same-origin
// API calls must.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.getAttribute("content") : "";
  window.SwaggerUIBundle({
    url: root.getAttribute("data-spec-url"),
    domNode: root,
    deepLinking: true,
    presets: [window.SwaggerUIBundle.presets.apis],
    requestInterceptor: function (request) {
      var method = (request.method || "GET").toUpperCase();
      if (method !== "GET" && method !== "HEAD" && csrf) {
        request.headers["X-CSRFToken"] = csrf;
      }
      return request;
    }
  });
})();
