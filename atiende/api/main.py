from ninja import NinjaAPI

api = NinjaAPI(title="atiende", version="1", urls_namespace="api-v1", openapi_url="/schema")
