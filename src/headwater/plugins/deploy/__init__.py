"""Compiling flows for production schedulers: what Airflow and Argo compilers share."""
