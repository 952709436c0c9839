"""Argo Workflows: a flow compiled into a WorkflowTemplate (and a CronWorkflow, a Sensor)."""
