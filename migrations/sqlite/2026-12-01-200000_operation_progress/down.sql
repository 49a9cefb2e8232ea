DROP TABLE operation_progress;
