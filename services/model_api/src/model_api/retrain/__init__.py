"""The retrain loop: candidates from the flagger's table, their triage (cleanlab), human review
decisions stored on the candidate's item, and the server-side retraining flow."""
