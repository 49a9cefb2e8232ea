//! Reading a paginated listing to its end.

/// Calls `page` with each page token in turn, from the first page (an empty
/// token) until a page comes back without a next one; returns every item.
pub(crate) async fn every_page<T, Fut>(mut page: impl FnMut(String) -> Fut) -> Result<Vec<T>, tonic::Status>
where
    Fut: Future<Output = Result<(Vec<T>, String), tonic::Status>>,
{
    let mut all = Vec::new();
    let mut page_token = String::new();
    loop {
        let (items, next_page_token) = page(page_token).await?;
        all.extend(items);
        if next_page_token.is_empty() {
            return Ok(all);
        }
        page_token = next_page_token;
    }
}

#[cfg(test)]
mod tests {
    use tonic::{Code, Status};

    use super::*;

    #[tokio::test]
    async fn every_page_follows_the_tokens_to_the_last_page_in_order() {
        let pages = [("", vec![1, 2], "b"), ("b", vec![3, 4], "c"), ("c", vec![5], "")];
        let mut asked = Vec::new();
        let all = every_page(|token| {
            asked.push(token.clone());
            let page =
                pages.iter().find(|(t, ..)| *t == token).map(|(_, items, next)| (items.clone(), next.to_string()));
            async move { page.ok_or_else(|| Status::invalid_argument("unknown token")) }
        })
        .await
        .expect("every page");
        assert_eq!(all, [1, 2, 3, 4, 5]);
        assert_eq!(asked, ["", "b", "c"]);
    }

    #[tokio::test]
    async fn every_page_stops_at_the_first_failed_page() {
        let mut calls = 0;
        let result: Result<Vec<u8>, Status> = every_page(|_| {
            calls += 1;
            let answer = if calls == 1 { Ok((vec![1], "next".to_owned())) } else { Err(Status::unavailable("down")) };
            async move { answer }
        })
        .await;
        assert_eq!(result.map_err(|s| s.code()), Err(Code::Unavailable));
        assert_eq!(calls, 2);
    }
}
