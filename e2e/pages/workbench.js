// The test workbench's own key handling: Enter sends the textarea's text, every key is counted.
// The extension must not get in its way.
let keys = 0;
const reply = document.getElementById('reply');
document.addEventListener('keydown', () => {
  keys += 1;
  document.getElementById('keys').textContent = String(keys);
});
reply.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && e.ctrlKey) {
    e.preventDefault();
    const li = document.createElement('li');
    li.textContent = reply.value;
    document.getElementById('sent').append(li);
    reply.value = '';
    reply.dispatchEvent(new Event('input', { bubbles: true }));
  }
});
