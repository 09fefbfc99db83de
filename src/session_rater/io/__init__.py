"""Reading and writing files: rubrics, recordings manifests, exports."""
