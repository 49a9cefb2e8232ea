//! The tables, as diesel sees them. One schema serves both backends: times
//! are `BIGINT` microseconds and lists JSON text, so no column type differs
//! between SQLite and PostgreSQL.

diesel::table! {
    tasks (id) {
        id -> Text,
        status -> Text,
        keywords -> Text,
        regions -> Text,
        prefectures -> Text,
        targets -> Text,
        exclude_keywords -> Text,
        days_limit -> Integer,
        export_file_name -> Nullable<Text>,
        export_format -> Nullable<Text>,
        request_id -> Nullable<Text>,
        search_text -> Text,
        total_operations -> Integer,
        completed_operations -> Integer,
        failed_operations -> Integer,
        items_found -> BigInt,
        new_documents -> BigInt,
        pages_fetched -> BigInt,
        error -> Nullable<Text>,
        stop_requested -> Bool,
        owner -> Nullable<Text>,
        lease_expires_at -> Nullable<BigInt>,
        created_at -> BigInt,
        updated_at -> BigInt,
        started_at -> Nullable<BigInt>,
        completed_at -> Nullable<BigInt>,
        watch_id -> Nullable<Text>,
        keywords_key -> Text,
    }
}

diesel::table! {
    operations (task_id, prefecture_code, keyword) {
        task_id -> Text,
        prefecture_code -> Text,
        keyword -> Text,
        items_found -> BigInt,
        new_documents -> BigInt,
        pages_fetched -> Integer,
        duration_ms -> BigInt,
        error -> Nullable<Text>,
        finished_at -> BigInt,
    }
}

diesel::table! {
    operation_progress (task_id, prefecture_code, keyword) {
        task_id -> Text,
        prefecture_code -> Text,
        keyword -> Text,
        next_offset -> Integer,
        pages_fetched -> Integer,
        items_found -> BigInt,
        elapsed_ms -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    documents (link) {
        link -> Text,
        title -> Text,
        description -> Text,
        published_on -> Nullable<Text>,
        date_label -> Text,
        prefecture_code -> Text,
        keyword -> Text,
        first_task_id -> Text,
        first_seen_at -> BigInt,
        search_text -> Text,
    }
}

diesel::table! {
    task_documents (task_id, prefecture_code, keyword, link) {
        task_id -> Text,
        prefecture_code -> Text,
        keyword -> Text,
        link -> Text,
    }
}

diesel::table! {
    task_events (id) {
        id -> BigInt,
        task_id -> Text,
        at -> BigInt,
        kind -> Text,
        message -> Text,
    }
}

diesel::table! {
    watches (id) {
        id -> Text,
        name -> Text,
        task -> Text,
        cron_expression -> Nullable<Text>,
        time_zone -> Nullable<Text>,
        interval_ms -> Nullable<BigInt>,
        paused -> Bool,
        next_run_at -> Nullable<BigInt>,
        webhook_url -> Nullable<Text>,
        webhook_secret -> Nullable<Text>,
        email_to -> Text,
        last_run_id -> Nullable<Text>,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    watch_runs (id) {
        id -> Text,
        watch_id -> Text,
        due_at -> Nullable<BigInt>,
        requested_at -> BigInt,
        task_id -> Nullable<Text>,
        ended_at -> Nullable<BigInt>,
        new_documents -> Nullable<BigInt>,
    }
}

diesel::table! {
    watch_documents (watch_id, link) {
        watch_id -> Text,
        link -> Text,
        title -> Text,
        description -> Text,
        published_on -> Nullable<Text>,
        date_label -> Text,
        prefecture_code -> Text,
        keyword -> Text,
        task_id -> Text,
        first_seen_at -> BigInt,
    }
}

diesel::table! {
    watch_events (id) {
        id -> BigInt,
        watch_id -> Text,
        at -> BigInt,
        kind -> Text,
        message -> Text,
        task_id -> Nullable<Text>,
        new_documents -> Nullable<BigInt>,
        due_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    watch_notifications (id) {
        id -> Text,
        watch_id -> Text,
        run_id -> Text,
        task_id -> Text,
        channel -> Text,
        attempts -> Integer,
        next_attempt_at -> Nullable<BigInt>,
        delivered_at -> Nullable<BigInt>,
        last_error -> Nullable<Text>,
        created_at -> BigInt,
    }
}

diesel::table! {
    task_creators (task_id) {
        task_id -> Text,
        token_name -> Text,
    }
}

diesel::joinable!(operations -> tasks (task_id));
diesel::joinable!(operation_progress -> tasks (task_id));
diesel::joinable!(task_creators -> tasks (task_id));
diesel::joinable!(task_documents -> tasks (task_id));
diesel::joinable!(task_documents -> documents (link));
diesel::joinable!(task_events -> tasks (task_id));
diesel::joinable!(watch_documents -> watches (watch_id));
diesel::joinable!(watch_events -> watches (watch_id));
diesel::allow_tables_to_appear_in_same_query!(
    tasks,
    operations,
    operation_progress,
    documents,
    task_documents,
    task_events,
    task_creators,
    watches,
    watch_runs,
    watch_documents,
    watch_events,
    watch_notifications
);
