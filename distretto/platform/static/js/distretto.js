// Small progressive enhancements; every page works without JavaScript.
document.addEventListener("htmx:responseError", function (event) {
  var box = document.createElement("div");
  box.className = "alert alert-danger";
  box.setAttribute("role", "alert");
  box.textContent = event.detail.xhr.status + " " + (event.detail.xhr.statusText || "");
  var main = document.getElementById("main");
  if (main) { main.prepend(box); }
});
