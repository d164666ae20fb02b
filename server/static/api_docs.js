// Swagger UI reading our generated document; "Try it out" uses the page's session cookie.
window.ui = SwaggerUIBundle({ url: "/api/v1/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
