'use strict';

const { createApp } = require('./app');

const port = Number(process.env.PORT || 3000);
createApp().listen(port, () => console.log(`payments API on http://127.0.0.1:${port}`));
