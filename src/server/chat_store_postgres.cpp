#include "server/chat_store_postgres.hpp"

#include <algorithm>
#include <set>

namespace tidewire::server {

namespace {

constexpr const char* kMessageColumns = "id, room_id, sender_id, text, created_at, edited_at, client_id";

std::string num(std::int64_t v) { return std::to_string(v); }
std::string str(std::string_view s) { return std::string(s); }

void read_message(const PgResult& r, int row, ChatMessage& m) {
  m.id = r.int64(row, 0);
  m.room_id = r.int64(row, 1);
  m.sender_id = str(r.text(row, 2));
  m.text = str(r.text(row, 3));
  m.created_at = r.int64(row, 4);
  m.edited_at = r.is_null(row, 5) ? std::nullopt : std::optional<std::int64_t>(r.int64(row, 5));
  m.client_id = r.is_null(row, 6) ? std::string() : str(r.text(row, 6));
  m.reactions.clear();
  m.reacted_by.clear();
}

// The reactions of `messages`, in one query.
bool load_reactions(PgConnection& c, std::vector<ChatMessage*> messages) {
  if (messages.empty()) return true;
  std::string ids = "{";
  for (const ChatMessage* m : messages) ids += (ids.size() > 1 ? "," : "") + num(m->id);
  ids += "}";
  const PgResult r = c.exec(
      "SELECT message_id, emoji, user_id FROM tidewire.chat_reactions WHERE message_id = ANY($1::bigint[]) "
      "ORDER BY message_id, emoji, user_id",
      {ids});
  if (!r.ok()) return false;
  for (int i = 0; i < r.rows(); ++i) {
    const std::int64_t id = r.int64(i, 0);
    for (ChatMessage* m : messages) {
      if (m->id != id) continue;
      const std::string emoji = str(r.text(i, 1));
      std::vector<std::string>& users = m->reacted_by[emoji];
      users.push_back(str(r.text(i, 2)));
      m->reactions[emoji] = static_cast<std::int64_t>(users.size());
    }
  }
  return true;
}

bool load_participants(PgConnection& c, ChatRoom& room) {
  room.participants.clear();
  const PgResult r = c.exec(
      "SELECT user_id FROM tidewire.chat_members WHERE room_id = $1 AND active ORDER BY user_id COLLATE \"C\"",
      {num(room.id)});
  if (!r.ok()) return false;
  for (int i = 0; i < r.rows(); ++i) room.participants.push_back(str(r.text(i, 0)));
  return true;
}

bool load_room(PgConnection& c, std::int64_t room_id, ChatRoom& out, bool& found) {
  found = false;
  const PgResult r =
      c.exec("SELECT id, name, kind, visibility, created_by, created_at FROM tidewire.chat_rooms WHERE id = $1",
             {num(room_id)});
  if (!r.ok()) {
    found = true;  // exists or not, the caller must report a db error
    return false;
  }
  if (r.rows() == 0) return false;
  found = true;
  out.id = r.int64(0, 0);
  out.name = str(r.text(0, 1));
  out.kind = str(r.text(0, 2));
  out.visibility = str(r.text(0, 3));
  out.created_by = str(r.text(0, 4));
  out.created_at = r.int64(0, 5);
  return load_participants(c, out);
}

bool load_message(PgConnection& c, std::int64_t room_id, std::int64_t message_id, ChatMessage& out, bool& found) {
  found = false;
  const PgResult r = c.exec(
      std::string("SELECT ") + kMessageColumns + " FROM tidewire.chat_messages WHERE id = $1 AND room_id = $2",
      {num(message_id), num(room_id)});
  if (r.ok() && r.rows() == 0) return false;
  found = true;
  if (!r.ok()) return false;
  read_message(r, 0, out);
  return load_reactions(c, {&out});
}

bool last_message_id(PgConnection& c, std::int64_t room_id, std::optional<std::int64_t>& out) {
  const PgResult r = c.exec("SELECT MAX(id) FROM tidewire.chat_messages WHERE room_id = $1", {num(room_id)});
  if (!r.ok() || r.rows() != 1) return false;
  out = r.is_null(0, 0) ? std::nullopt : std::optional<std::int64_t>(r.int64(0, 0));
  return true;
}

bool unread_count(PgConnection& c, std::int64_t room_id, std::string_view user, std::int64_t& unread) {
  const PgResult r = c.exec(
      "SELECT COUNT(*) FROM tidewire.chat_messages c "
      "JOIN tidewire.chat_members m ON m.room_id = c.room_id AND m.user_id = $2 "
      "WHERE c.room_id = $1 AND c.id > m.last_read_id AND c.sender_id <> $2",
      {num(room_id), str(user)});
  if (!r.ok() || r.rows() != 1) return false;
  unread = r.int64(0, 0);
  return true;
}

Membership membership(PgConnection& c, std::int64_t room_id, std::string_view user) {
  const PgResult r = c.exec(
      "SELECT r.id, m.active FROM tidewire.chat_rooms r "
      "LEFT JOIN tidewire.chat_members m ON m.room_id = r.id AND m.user_id = $2 WHERE r.id = $1",
      {num(room_id), str(user)});
  if (!r.ok()) return Membership::kError;
  if (r.rows() == 0) return Membership::kNoRoom;
  if (r.is_null(0, 1)) return Membership::kNone;
  return r.text(0, 1) == "t" ? Membership::kActive : Membership::kInvited;
}

bool add_member(PgConnection& c, std::int64_t room_id, std::string_view user, std::int64_t now) {
  return c
      .exec("INSERT INTO tidewire.chat_members AS m (room_id, user_id, active, joined_at) VALUES ($1, $2, TRUE, $3) "
            "ON CONFLICT (room_id, user_id) DO UPDATE SET active = TRUE, "
            "joined_at = CASE WHEN m.active THEN m.joined_at ELSE excluded.joined_at END",
            {num(room_id), str(user), num(now)})
      .ok();
}

// The rows of a message query that asked for `limit` + 1: the first `limit` (with their reactions) into `out`,
// and `has_more` when the extra row came.
bool read_page(PgConnection& c, const PgResult& r, int limit, std::vector<ChatMessage>& out, bool& has_more) {
  out.clear();
  has_more = false;
  if (!r.ok()) return false;
  for (int i = 0; i < r.rows(); ++i) {
    if (static_cast<int>(out.size()) == limit) {
      has_more = true;
      break;
    }
    ChatMessage m;
    read_message(r, i, m);
    out.push_back(std::move(m));
  }
  std::vector<ChatMessage*> all;
  for (ChatMessage& m : out) all.push_back(&m);
  return load_reactions(c, all);
}

}  // namespace

std::string_view PgChatStore::schema_v1() {
  // As SQLite's (chat_store_sqlite.cpp): members stay as rows after leaving (active = FALSE: the invitation to
  // rejoin a private room); dm_key ("a\nb", sorted) makes the DM of a pair unique; the partial unique index
  // dedupes client ids, across nodes.
  return R"sql(
CREATE TABLE tidewire.chat_rooms (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name TEXT NOT NULL, kind TEXT NOT NULL, visibility TEXT NOT NULL,
  created_by TEXT NOT NULL, created_at BIGINT NOT NULL, dm_key TEXT UNIQUE);
CREATE TABLE tidewire.chat_members (
  room_id BIGINT NOT NULL REFERENCES tidewire.chat_rooms(id) ON DELETE CASCADE,
  user_id TEXT NOT NULL, active BOOLEAN NOT NULL, joined_at BIGINT NOT NULL,
  last_read_id BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (room_id, user_id));
CREATE INDEX chat_members_by_user ON tidewire.chat_members (user_id, active);
CREATE TABLE tidewire.chat_messages (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  room_id BIGINT NOT NULL REFERENCES tidewire.chat_rooms(id) ON DELETE CASCADE,
  sender_id TEXT NOT NULL, text TEXT NOT NULL, created_at BIGINT NOT NULL, edited_at BIGINT, client_id TEXT);
CREATE INDEX chat_messages_by_room ON tidewire.chat_messages (room_id, id);
CREATE UNIQUE INDEX chat_messages_client_id ON tidewire.chat_messages (room_id, sender_id, client_id)
  WHERE client_id IS NOT NULL;
CREATE TABLE tidewire.chat_reactions (
  message_id BIGINT NOT NULL REFERENCES tidewire.chat_messages(id) ON DELETE CASCADE,
  emoji TEXT NOT NULL, user_id TEXT NOT NULL,
  PRIMARY KEY (message_id, emoji, user_id));
)sql";
}

std::optional<ChatRoom> PgChatStore::create_room(std::string_view name, std::string_view visibility,
                                                 std::string_view creator,
                                                 const std::vector<std::string>& participants, std::int64_t now) {
  auto c = pool_.acquire();
  if (!c) return std::nullopt;
  std::int64_t id = 0;
  {
    PgTransaction tx(*c);
    if (!tx.ok()) return std::nullopt;
    const PgResult r = c->exec(
        "INSERT INTO tidewire.chat_rooms (name, kind, visibility, created_by, created_at) "
        "VALUES ($1, 'room', $2, $3, $4) RETURNING id",
        {str(name), str(visibility), str(creator), num(now)});
    if (!r.ok() || r.rows() != 1) return std::nullopt;
    id = r.int64(0, 0);
    std::set<std::string, std::less<>> everyone(participants.begin(), participants.end());
    everyone.emplace(creator);
    for (const std::string& user : everyone)
      if (!add_member(*c, id, user, now)) return std::nullopt;
    if (!tx.commit()) return std::nullopt;
  }
  ChatRoom room;
  bool found = false;
  if (!tidewire::server::load_room(*c, id, room, found)) return std::nullopt;
  return room;
}

std::optional<ChatRoom> PgChatStore::open_dm(std::string_view a, std::string_view b, std::int64_t now) {
  const std::string lo(std::min(a, b)), hi(std::max(a, b));
  const std::string key = lo + "\n" + hi;  // unambiguous: the service refuses user ids with control characters
  auto c = pool_.acquire();
  if (!c) return std::nullopt;
  std::int64_t id = 0;
  {
    PgTransaction tx(*c);
    if (!tx.ok()) return std::nullopt;
    // Two nodes opening the same DM at once: one inserts, the other waits for it and takes its row.
    const PgResult ins = c->exec(
        "INSERT INTO tidewire.chat_rooms (name, kind, visibility, created_by, created_at, dm_key) "
        "VALUES ($1, 'dm', 'private', $2, $3, $4) ON CONFLICT (dm_key) DO NOTHING RETURNING id",
        {lo + ", " + hi, str(a), num(now), key});
    if (!ins.ok()) return std::nullopt;
    if (ins.rows() == 1) {
      id = ins.int64(0, 0);
    } else {
      const PgResult found = c->exec("SELECT id FROM tidewire.chat_rooms WHERE dm_key = $1", {key});
      if (!found.ok() || found.rows() != 1) return std::nullopt;
      id = found.int64(0, 0);
    }
    if (!add_member(*c, id, lo, now) || !add_member(*c, id, hi, now) || !tx.commit()) return std::nullopt;
  }
  ChatRoom room;
  bool found = false;
  if (!tidewire::server::load_room(*c, id, room, found)) return std::nullopt;
  return room;
}

bool PgChatStore::load_room(std::int64_t room_id, ChatRoom& out, bool& found) {
  auto c = pool_.acquire();
  if (!c) {
    found = true;
    return false;
  }
  return tidewire::server::load_room(*c, room_id, out, found);
}

Membership PgChatStore::membership(std::int64_t room_id, std::string_view user) {
  auto c = pool_.acquire();
  if (!c) return Membership::kError;
  return tidewire::server::membership(*c, room_id, user);
}

bool PgChatStore::join(std::int64_t room_id, std::string_view user, std::int64_t now, bool& changed) {
  auto c = pool_.acquire();
  if (!c) return false;
  const Membership before = tidewire::server::membership(*c, room_id, user);
  if (before == Membership::kError) return false;
  changed = before != Membership::kActive;
  return add_member(*c, room_id, user, now);
}

bool PgChatStore::leave(std::int64_t room_id, std::string_view user, bool& changed) {
  auto c = pool_.acquire();
  if (!c) return false;
  const PgResult r = c->exec(
      "UPDATE tidewire.chat_members SET active = FALSE WHERE room_id = $1 AND user_id = $2 AND active",
      {num(room_id), str(user)});
  if (!r.ok()) return false;
  changed = r.affected() != "0";
  return true;
}

bool PgChatStore::list_rooms(std::string_view user, std::vector<ChatRoomSummary>& out) {
  out.clear();
  auto c = pool_.acquire();
  if (!c) return false;
  const PgResult r = c->exec(
      "SELECT m.room_id, (SELECT MAX(id) FROM tidewire.chat_messages WHERE room_id = m.room_id) AS last "
      "FROM tidewire.chat_members m WHERE m.user_id = $1 AND m.active "
      "ORDER BY last DESC NULLS LAST, m.room_id DESC",
      {str(user)});
  if (!r.ok()) return false;
  for (int i = 0; i < r.rows(); ++i) {
    ChatRoomSummary s;
    const std::int64_t room_id = r.int64(i, 0);
    bool found = false;
    if (!tidewire::server::load_room(*c, room_id, s.room, found)) {
      if (!found) continue;  // deleted since the list was read
      return false;
    }
    std::optional<std::int64_t> last;
    if (!tidewire::server::last_message_id(*c, room_id, last)) return false;
    if (last) {
      ChatMessage m;
      if (!tidewire::server::load_message(*c, room_id, *last, m, found)) return false;
      s.last_message = std::move(m);
    }
    if (!tidewire::server::unread_count(*c, room_id, user, s.unread_count)) return false;
    out.push_back(std::move(s));
  }
  return true;
}

bool PgChatStore::room_summary(std::int64_t room_id, std::string_view user, ChatRoomSummary& out, bool& found) {
  out = ChatRoomSummary{};
  auto c = pool_.acquire();
  if (!c) {
    found = true;
    return false;
  }
  if (!tidewire::server::load_room(*c, room_id, out.room, found)) return false;
  std::optional<std::int64_t> last;
  if (!tidewire::server::last_message_id(*c, room_id, last)) return false;
  if (last) {
    ChatMessage m;
    if (!tidewire::server::load_message(*c, room_id, *last, m, found)) {
      found = true;  // the room exists: whatever failed is a db error
      return false;
    }
    out.last_message = std::move(m);
  }
  return tidewire::server::unread_count(*c, room_id, user, out.unread_count);
}

bool PgChatStore::last_message_id(std::int64_t room_id, std::optional<std::int64_t>& out) {
  auto c = pool_.acquire();
  return c && tidewire::server::last_message_id(*c, room_id, out);
}

bool PgChatStore::history(std::int64_t room_id, std::optional<std::int64_t> before, int limit,
                          std::vector<ChatMessage>& out, bool& has_more) {
  auto c = pool_.acquire();
  if (!c) return false;
  const PgResult r = c->exec(std::string("SELECT ") + kMessageColumns +
                                 " FROM tidewire.chat_messages WHERE room_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
                             {num(room_id), num(before.value_or(INT64_MAX)), num(static_cast<std::int64_t>(limit) + 1)});
  if (!read_page(*c, r, limit, out, has_more)) return false;
  std::reverse(out.begin(), out.end());  // newest first from the query, oldest first in the answer
  return true;
}

bool PgChatStore::history_after(std::int64_t room_id, std::int64_t after, int limit, std::vector<ChatMessage>& out,
                                bool& has_more) {
  auto c = pool_.acquire();
  if (!c) return false;
  const PgResult r = c->exec(std::string("SELECT ") + kMessageColumns +
                                 " FROM tidewire.chat_messages WHERE room_id = $1 AND id > $2 ORDER BY id ASC LIMIT $3",
                             {num(room_id), num(after), num(static_cast<std::int64_t>(limit) + 1)});
  return read_page(*c, r, limit, out, has_more);
}

bool PgChatStore::delete_room(std::int64_t room_id) {
  auto c = pool_.acquire();
  // Members, messages and their reactions go with it (ON DELETE CASCADE).
  return c && c->exec("DELETE FROM tidewire.chat_rooms WHERE id = $1", {num(room_id)}).ok();
}

bool PgChatStore::send(std::int64_t room_id, std::string_view sender, std::string_view text,
                       std::optional<std::string_view> client_id, std::int64_t now, ChatMessage& out,
                       bool& duplicate) {
  duplicate = false;
  auto c = pool_.acquire();
  if (!c) return false;
  // With a client id, the unique index decides: the first insert wins (on whichever node), a later or concurrent
  // one inserts nothing (waiting for the first to commit) and reads the stored message.
  const PgResult ins = c->exec(
      "INSERT INTO tidewire.chat_messages (room_id, sender_id, text, created_at, client_id) "
      "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (room_id, sender_id, client_id) WHERE client_id IS NOT NULL "
      "DO NOTHING RETURNING id",
      {num(room_id), str(sender), str(text), num(now), client_id ? PgParam(str(*client_id)) : PgParam()});
  if (!ins.ok()) return false;
  if (ins.rows() == 1) {
    out = ChatMessage{};
    out.id = ins.int64(0, 0);
    out.room_id = room_id;
    out.sender_id = str(sender);
    out.text = str(text);
    out.created_at = now;
    if (client_id) out.client_id = str(*client_id);
    return true;
  }
  const PgResult found = c->exec(std::string("SELECT ") + kMessageColumns +
                                     " FROM tidewire.chat_messages WHERE room_id = $1 AND sender_id = $2 AND "
                                     "client_id = $3",
                                 {num(room_id), str(sender), client_id ? PgParam(str(*client_id)) : PgParam()});
  if (!found.ok() || found.rows() != 1) return false;
  read_message(found, 0, out);
  duplicate = true;
  return load_reactions(*c, {&out});
}

bool PgChatStore::load_message(std::int64_t room_id, std::int64_t message_id, ChatMessage& out, bool& found) {
  auto c = pool_.acquire();
  if (!c) {
    found = true;
    return false;
  }
  return tidewire::server::load_message(*c, room_id, message_id, out, found);
}

bool PgChatStore::edit(std::int64_t message_id, std::string_view text, std::int64_t now) {
  auto c = pool_.acquire();
  return c && c->exec("UPDATE tidewire.chat_messages SET text = $2, edited_at = $3 WHERE id = $1",
                      {num(message_id), str(text), num(now)})
                  .ok();
}

bool PgChatStore::react(std::int64_t message_id, std::string_view user, std::string_view emoji, bool add,
                        std::int64_t& count, bool& changed) {
  auto c = pool_.acquire();
  if (!c) return false;
  const PgResult change = c->exec(
      add ? "INSERT INTO tidewire.chat_reactions (message_id, emoji, user_id) VALUES ($1, $2, $3) "
            "ON CONFLICT DO NOTHING"
          : "DELETE FROM tidewire.chat_reactions WHERE message_id = $1 AND emoji = $2 AND user_id = $3",
      {num(message_id), str(emoji), str(user)});
  if (!change.ok()) return false;
  changed = change.affected() != "0";
  const PgResult r = c->exec("SELECT COUNT(*) FROM tidewire.chat_reactions WHERE message_id = $1 AND emoji = $2",
                             {num(message_id), str(emoji)});
  if (!r.ok() || r.rows() != 1) return false;
  count = r.int64(0, 0);
  return true;
}

bool PgChatStore::mark_read(std::int64_t room_id, std::string_view user, std::int64_t message_id,
                            std::int64_t& unread, bool& moved) {
  auto c = pool_.acquire();
  if (!c) return false;
  const PgResult r = c->exec(
      "UPDATE tidewire.chat_members SET last_read_id = $3 WHERE room_id = $1 AND user_id = $2 AND last_read_id < $3",
      {num(room_id), str(user), num(message_id)});
  if (!r.ok()) return false;
  moved = r.affected() != "0";
  return tidewire::server::unread_count(*c, room_id, user, unread);
}

bool PgChatStore::unread_count(std::int64_t room_id, std::string_view user, std::int64_t& unread) {
  auto c = pool_.acquire();
  return c && tidewire::server::unread_count(*c, room_id, user, unread);
}

}  // namespace tidewire::server
