// Starts Swagger UI on the document the page names; a file of its own, so the page's
// Content-Security-Policy allows no inline script.
(function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-url"),
    domNode: root,
    deepLinking: true,
    validatorUrl: null, // Swagger UI would otherwise send the document to an outside validator
    docExpansion: "list",
    defaultModelsExpandDepth: 0,
    displayOperationId: true,
    tryItOutEnabled: false,
  });
})();
