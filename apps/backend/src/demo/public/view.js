// DOM updates only. Notification text is untrusted: it goes in through textContent, never as HTML.

export class View {
  constructor(doc) {
    this.doc = doc;
    this.status = doc.querySelector('[data-testid="status"]');
    this.list = doc.getElementById('notifications');
    this.empty = doc.getElementById('empty');
    this.unread = doc.querySelector('[data-testid="unread-count"]');
    this.logList = doc.getElementById('log');
  }

  showSession(email, role) {
    this.doc.getElementById('login').hidden = true;
    this.doc.getElementById('inbox').hidden = false;
    this.doc.getElementById('who').hidden = false;
    this.doc.querySelector('[data-testid="who"]').textContent = `${email} · ${role}`;
    const admin = role === 'ADMIN' || role === 'SUPER_ADMIN';
    this.doc.getElementById('admin').hidden = !admin;
    this.doc.querySelector('#send-form option[value="GLOBAL"]').disabled = role !== 'SUPER_ADMIN';
  }

  showLogin(error) {
    this.doc.getElementById('login').hidden = false;
    this.doc.getElementById('inbox').hidden = true;
    this.doc.getElementById('admin').hidden = true;
    this.doc.getElementById('who').hidden = true;
    this.list.replaceChildren();
    this.empty.hidden = false;
    const message = this.doc.querySelector('[data-testid="login-error"]');
    message.hidden = !error;
    message.textContent = error || '';
  }

  setStatus(state, detail) {
    this.status.dataset.state = state;
    this.status.textContent = detail ? `${state} · ${detail}` : state;
  }

  setUnread(count) {
    this.unread.textContent = String(count);
  }

  /** Newest first; a notification already shown is not added twice. */
  addNotification(notification, onMarkRead, position = 'top') {
    if (this.list.querySelector(`li[data-id="${CSS.escape(notification.id)}"]`)) return;
    const item = this.doc.createElement('li');
    item.dataset.id = notification.id;
    item.dataset.testid = 'notification';
    item.className = `priority-${notification.priority}`;
    const head = this.doc.createElement('div');
    head.className = 'head';
    const title = this.doc.createElement('strong');
    title.className = 'title';
    title.textContent = notification.title;
    const meta = this.doc.createElement('span');
    meta.className = 'muted';
    meta.textContent = `${notification.scope} · ${notification.priority} · #${notification.cursor} · ${new Date(notification.createdAt).toLocaleTimeString()}`;
    head.append(title, meta);
    const content = this.doc.createElement('p');
    content.textContent = notification.content;
    const button = this.doc.createElement('button');
    button.type = 'button';
    button.className = 'secondary mark-read';
    button.textContent = 'Mark read';
    button.addEventListener('click', () => onMarkRead(notification.id));
    item.append(head, content, button);
    if (notification.read) this.setRead(item);
    if (position === 'top') this.list.prepend(item);
    else this.list.append(item);
    this.empty.hidden = true;
  }

  /** A reset: the list is rebuilt from the latest page. */
  clearNotifications() {
    this.list.replaceChildren();
  }

  markRead(id) {
    const item = this.list.querySelector(`li[data-id="${CSS.escape(id)}"]`);
    if (item) this.setRead(item);
  }

  markAllRead() {
    for (const item of this.list.querySelectorAll('li')) this.setRead(item);
  }

  setRead(item) {
    item.classList.add('read');
    const button = item.querySelector('.mark-read');
    if (button) button.remove();
  }

  log(text) {
    const entry = this.doc.createElement('li');
    entry.textContent = `${new Date().toLocaleTimeString()} ${text}`;
    this.logList.prepend(entry);
    while (this.logList.children.length > 50) this.logList.lastElementChild.remove();
  }
}
