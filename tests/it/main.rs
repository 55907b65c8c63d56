mod x {}
mod watcher;
