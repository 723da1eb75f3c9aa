"""notifier: sends the replies orders decided through Twilio's Messages API, once each."""
