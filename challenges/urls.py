from challenges import campaign_urls, points_urls

urlpatterns = [*points_urls.urlpatterns, *campaign_urls.urlpatterns]
