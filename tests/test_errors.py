from linkcrawler.errors import mask_uri


def test_passwords_in_uris_are_masked():
    text = "cannot reach mongodb://admin:s3cr3t@db:27017/x and redis://:pw@r:6379/0"
    assert mask_uri(text) == "cannot reach mongodb://admin:***@db:27017/x and redis://:***@r:6379/0"


def test_uris_without_password_are_untouched():
    assert mask_uri("redis://host:6379/0 mongodb://db/") == "redis://host:6379/0 mongodb://db/"
