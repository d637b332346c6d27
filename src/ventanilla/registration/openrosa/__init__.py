"""The OpenRosa API: ODK Collect and KoboCollect download Ventanilla's registration forms, are filled
offline, and send the filled forms back later.

- `digest`: HTTP Digest authentication (RFC 7616, MD5, qop=auth) with stateless signed nonces.
- `credentials`: device credentials (one generated password per phone, for one site), created and
  revoked by staff; which forms and sites a credential reaches.
- `responses`: the OpenRosa XML documents and the headers every response carries.
- `views`: formList, form download, manifest, submission (HEAD and POST); `staff`: the staff page.

Specifications followed: OpenRosa 1.0 Form List API, Form Submission API, Authentication API.
"""
