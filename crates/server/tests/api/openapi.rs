use crate::helpers::spawn_app;

#[tokio::test]
async fn the_openapi_document_describes_every_content_endpoint() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let document: serde_json::Value = response.json().await.unwrap();
    let paths = document["paths"].as_object().unwrap();
    for (path, method) in [
        ("/api/v1/materials", "post"),
        ("/api/v1/materials", "get"),
        ("/api/v1/materials/{id}", "patch"),
        ("/api/v1/materials/{id}", "delete"),
        ("/api/v1/materials/{id}/segments", "put"),
        ("/api/v1/segments/{id}", "patch"),
        ("/api/v1/materials/{id}/progress", "put"),
        ("/api/v1/recordings/{id}", "get"),
        ("/api/v1/recordings/{id}/assessments", "post"),
        ("/api/v1/uploads", "post"),
        ("/api/v1/uploads/{id}", "patch"),
        ("/api/v1/uploads/{id}", "head"),
        ("/api/v1/materials/{id}/media", "get"),
        ("/api/v1/dictionary/{language}/{word}", "get"),
        ("/api/v1/vocabulary", "get"),
        ("/api/v1/vocabulary/{id}", "put"),
        ("/api/v1/vocabulary/{id}", "get"),
        ("/api/v1/vocabulary/{id}", "delete"),
        ("/api/v1/vocabulary/{id}/reviews", "post"),
    ] {
        assert!(
            paths.get(path).and_then(|item| item.get(method)).is_some(),
            "{method} {path}"
        );
    }
    assert!(document["components"]["schemas"]["WordResult"].is_object());
}

#[tokio::test]
async fn the_docs_page_is_served() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/api/docs")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .to_lowercase()
            .contains("scalar")
    );
}
