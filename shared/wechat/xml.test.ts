import { describe, expect, it } from 'vitest';
import { buildXml, parseXml, XmlError } from './xml';

describe('WeChat XML', () => {
  it('parses a text push with CDATA and bare numbers', () => {
    const xml =
      '<xml><ToUserName><![CDATA[gh_123]]></ToUserName><FromUserName><![CDATA[o-user]]></FromUserName>' +
      '<CreateTime>1348831860</CreateTime><MsgType><![CDATA[text]]></MsgType>' +
      '<Content><![CDATA[a < b & ]]]]><![CDATA[> c 你好]]></Content><MsgId>1234567890123456</MsgId></xml>';
    expect(parseXml(xml)).toEqual({
      ToUserName: 'gh_123',
      FromUserName: 'o-user',
      CreateTime: '1348831860',
      MsgType: 'text',
      Content: 'a < b & ]]> c 你好',
      MsgId: '1234567890123456',
    });
  });

  it('parses nested and repeated elements, entities, comments and the declaration', () => {
    const xml = `<?xml version="1.0" encoding="utf-8"?>
      <!-- pushed -->
      <xml>
        <Event>pic_sysphoto</Event>
        <SendPicsInfo><Count>2</Count>
          <PicList><item><PicMd5Sum>a1</PicMd5Sum></item><item><PicMd5Sum>b2</PicMd5Sum></item></PicList>
        </SendPicsInfo>
        <Note>x &lt;y&gt; &amp; &#20320;&#x597D;</Note>
        <Empty/>
      </xml>`;
    expect(parseXml(xml)).toEqual({
      Event: 'pic_sysphoto',
      SendPicsInfo: {
        Count: '2',
        PicList: { item: [{ PicMd5Sum: 'a1' }, { PicMd5Sum: 'b2' }] },
      },
      Note: 'x <y> & 你好',
      Empty: '',
    });
  });

  it.each([
    ['', 'expected the root element'],
    ['<xml><a>1</b></xml>', '</b> closes <a>'],
    ['<xml><a>1</a>', 'unterminated <xml>'],
    ['<xml><a x="1">1</a></xml>', 'attributes are not accepted'],
    ['<!DOCTYPE xml [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml>&e;</xml>', 'DOCTYPE'],
    ['<xml>&e;</xml>', 'unknown entity &e;'],
    ['<xml><a>&#0;</a></xml>', 'bad character reference'],
    ['<xml><a>x & y</a></xml>', 'bare &'],
    ['<xml><a>1</a></xml><b/>', 'content after the root element'],
    ['<xml><?php x ?></xml>', 'declarations are not accepted'],
    ['<xml><a><![CDATA[x</a></xml>', 'unterminated CDATA'],
    ['<xml>text<a>1</a></xml>', 'mixes text and elements'],
    [`${'<a>'.repeat(40)}${'</a>'.repeat(40)}`, 'nested too deeply'],
  ])('refuses %j', (xml, message) => {
    expect(() => parseXml(xml)).toThrow(XmlError);
    expect(() => parseXml(xml)).toThrow(message);
  });

  it('builds reply XML that parses back to the same fields', () => {
    const fields = {
      ToUserName: 'o-user',
      FromUserName: 'gh_123',
      CreateTime: 1714112445,
      MsgType: 'news',
      ArticleCount: 2,
      Articles: { item: [{ Title: 'a ]]> b', Url: 'https://x/?a=1&b=2' }, { Title: 'c' }] },
    };
    const xml = buildXml(fields);
    expect(xml.startsWith('<xml><ToUserName><![CDATA[o-user]]></ToUserName>')).toBe(true);
    expect(xml).toContain('<CreateTime>1714112445</CreateTime>');
    expect(parseXml(xml)).toEqual({
      ...fields,
      CreateTime: '1714112445',
      ArticleCount: '2',
    });
    expect(() => buildXml({ 'bad tag': 'x' })).toThrow('"bad tag" is not an element name');
  });
});
