"""Airflow: a flow compiled into an Airflow 3 DAG file."""
