// Security keys and passkeys (allauth's webauthn.js): a key that refuses, times out or is
// missing raises "allauth.error"; show the page's message instead of leaving the button
// silently doing nothing.
(function () {
  document.addEventListener('allauth.error', function (event) {
    const box = document.querySelector('[data-webauthn-error]')
    if (box) {
      box.hidden = false
      event.preventDefault()
    }
  })
})()
