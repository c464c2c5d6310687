"""The scan tools: line counts, linters, complexity and duplication, one module each."""
