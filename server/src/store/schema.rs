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

diesel::joinable!(operations -> tasks (task_id));
diesel::joinable!(operation_progress -> tasks (task_id));
diesel::joinable!(task_documents -> tasks (task_id));
diesel::joinable!(task_documents -> documents (link));
diesel::joinable!(task_events -> tasks (task_id));
diesel::allow_tables_to_appear_in_same_query!(
    tasks,
    operations,
    operation_progress,
    documents,
    task_documents,
    task_events
);
