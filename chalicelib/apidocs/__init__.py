"""Served API documentation: each face's OpenAPI document in Swagger UI, under `/docs`."""
